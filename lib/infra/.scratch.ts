import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { StatefulStack } from './stacks/stateful-stack';
import { resourceNames } from './naming';
const app = new App();
const s = new StatefulStack(app, 'Stateful', { models: ['a-model', 'b-model'], names: resourceNames() });
const r = new AwsSolutionsChecks().validateScope(app);
for (const v of r.violations) console.log(v.severity, v.ruleName, v.violatingResources.map((x) => x.constructPath).join(','));
console.log(Object.keys(app.synth().getStackByName('Stateful').template.Resources).join(' '));
