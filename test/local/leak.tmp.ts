import '../../bin/polyfills';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startTestCloud } from './helpers';
import { getJson } from '../../lambdas/shared/s3json';
const t = await startTestCloud();
try {
  const s3 = new S3Client({ endpoint: t.cloud.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  for (let i = 0; i < 70; i++) {
    const t0 = Date.now();
    try { await s3.send(new GetObjectCommand({ Bucket: 'mlship-artifacts', Key: 'nope.json' })); } catch (e: any) { if (i % 10 === 0) console.log(i, e.name, Date.now() - t0); }
  }
  console.log('raw 404s ok');
  for (let i = 0; i < 70; i++) { await getJson(s3, 'mlship-artifacts', 'nope2.json'); if (i % 10 === 0) console.log('getJson', i); }
  console.log('getJson 404s ok');
} finally { await t.close(); }
