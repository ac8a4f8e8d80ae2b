// Imported first by every handler test: handler modules build their deps from the
// environment at import, as they do in Lambda.
import { TASK_ENV_VALUES } from './fixtures';

Object.assign(process.env, TASK_ENV_VALUES);
delete process.env.AWS_ENDPOINT_URL;
