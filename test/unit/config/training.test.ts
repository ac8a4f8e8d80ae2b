import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifest } from '../../../lib/config';

const FILE = 'models/demo/model.yaml';

const withTraining = (training: unknown) => ({
  name: 'demo-model',
  task: 'regression',
  paths: ['models/demo/**'],
  serve: { command: 'node serve.mjs' },
  features: [{ name: 'x', type: 'numeric' }],
  label: 'y',
  ...(training === undefined ? {} : { training }),
});

function messageOf(training: unknown): string {
  try {
    parseManifest(withTraining(training), FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as Error).message;
  }
  throw new Error('expected the manifest to be refused');
}

describe('Function: parseManifest', () => {
  describe('Field: training', () => {
    it('defaults to training in the build', () => {
      // Act
      const m = parseManifest(withTraining(undefined), FILE);

      // Assess
      expect(m.training.mode).toBe('build');
      expect(m.training.channels).toEqual({ train: { build: 'data/' } });
    });

    it('reads a SageMaker training stage with its defaults filled in and hyperparameters as text', () => {
      // Act
      const m = parseManifest(
        withTraining({
          mode: 'sagemaker',
          command: 'python train.py',
          instanceType: 'ml.g5.xlarge',
          instanceCount: 2,
          maxRuntime: '2h',
          spot: { enabled: true, checkpointPath: 's3://team-data/checkpoints/demo/' },
          hyperparameters: { epochs: 10, lr: 0.05, early_stop: true, optimizer: 'adam' },
          channels: { train: { s3: 's3://team-data/demo/train/' }, holdout: { build: 'data' } },
          metrics: [{ name: 'validation:rmse', regex: 'val_rmse=([0-9.]+)' }],
        }),
        FILE,
      );

      // Assess
      expect(m.training).toEqual({
        mode: 'sagemaker',
        command: 'python train.py',
        instanceType: 'ml.g5.xlarge',
        instanceCount: 2,
        maxRuntime: 7200,
        spot: { enabled: true, checkpointPath: 's3://team-data/checkpoints/demo/', maxWait: 14400 },
        hyperparameters: { epochs: '10', lr: '0.05', early_stop: 'true', optimizer: 'adam' },
        channels: { train: { s3: 's3://team-data/demo/train/' }, holdout: { build: 'data/' } },
        metrics: [{ name: 'validation:rmse', regex: 'val_rmse=([0-9.]+)' }],
      });
    });

    it('refuses mode sagemaker without a command, naming the field', () => {
      expect(messageOf({ mode: 'sagemaker' })).toBe(
        `${FILE}: training.command: required with mode sagemaker: the command that trains inside the image`,
      );
    });

    it('refuses an unknown mode with the allowed values', () => {
      expect(messageOf({ mode: 'gpu' })).toBe(`${FILE}: training.mode: must be one of "build", "sagemaker"`);
    });

    it('refuses spot without a checkpoint path, and a max wait below the max runtime', () => {
      expect(messageOf({ mode: 'sagemaker', command: 'x', spot: { enabled: true } })).toContain(
        'training.spot.checkpointPath: required with spot',
      );
      expect(
        messageOf({
          mode: 'sagemaker',
          command: 'x',
          maxRuntime: '2h',
          spot: { enabled: true, maxWait: '1h', checkpointPath: 's3://b-1/c/' },
        }),
      ).toContain('training.spot.maxWait: at least maxRuntime (7200s)');
    });

    it('refuses a max runtime beyond SageMaker’s 28 days', () => {
      expect(messageOf({ mode: 'sagemaker', command: 'x', maxRuntime: '29d' })).toContain('training.maxRuntime: from 1s to 28d');
    });

    it('refuses a channel that is neither an S3 prefix nor the build output, and a bad channel name', () => {
      expect(messageOf({ mode: 'sagemaker', command: 'x', channels: { train: { s3: 'http://x/y' } } })).toContain(
        'training.channels.train',
      );
      expect(messageOf({ mode: 'sagemaker', command: 'x', channels: { 'a b': { build: '' } } })).toContain(
        'training.channels.a b: 1-64 letters',
      );
      expect(messageOf({ mode: 'sagemaker', command: 'x', channels: { train: { build: '../secrets' } } })).toContain(
        'training.channels.train.build: a relative folder inside the build output',
      );
    });

    it('refuses a metric definition whose regex does not compile, and duplicate metric names', () => {
      expect(messageOf({ mode: 'sagemaker', command: 'x', metrics: [{ name: 'rmse', regex: 'rmse=([0-9' }] })).toContain(
        'training.metrics.0.regex: a valid regular expression',
      );
      expect(
        messageOf({
          mode: 'sagemaker',
          command: 'x',
          metrics: [
            { name: 'rmse', regex: 'a=(\\d)' },
            { name: 'rmse', regex: 'b=(\\d)' },
          ],
        }),
      ).toContain('training.metrics.1.name: duplicate metric "rmse"');
    });
  });
});
