import { describe, expect, it } from 'vitest';
import { RequestValidator, validationMessage, type AwsModel } from '../../lib/local/core/validate-request';

/** A model in botocore's format with one member of each kind the validator knows. */
const model: AwsModel = {
  source: 'test',
  metadata: { apiVersion: '2020-01-01', protocol: 'json', targetPrefix: 'Test' },
  operations: {
    Put: { http: { method: 'POST', requestUri: '/' }, input: 'PutInput' },
    Ping: { http: { method: 'POST', requestUri: '/' } },
  },
  shapes: {
    PutInput: {
      type: 'structure',
      required: ['Name'],
      members: {
        Name: { shape: 'Name' },
        Count: { shape: 'Count' },
        Size: { shape: 'Size' },
        Ratio: { shape: 'Ratio' },
        On: { shape: 'Flag' },
        At: { shape: 'Time' },
        Data: { shape: 'Data' },
        Tags: { shape: 'Tags' },
        Items: { shape: 'Items' },
        Choice: { shape: 'Choice' },
        Secret: { shape: 'Secret' },
        Self: { shape: 'PutInput' },
        Free: { shape: 'Doc' },
      },
    },
    Name: { type: 'string', min: 1, max: 8, pattern: '[a-z]+' },
    Count: { type: 'integer', min: 0, max: 10 },
    Size: { type: 'long' },
    Ratio: { type: 'double', max: 1 },
    Flag: { type: 'boolean' },
    Time: { type: 'timestamp' },
    Data: { type: 'blob', max: 3 },
    Tags: { type: 'map', key: { shape: 'Name' }, value: { shape: 'Kind' }, max: 2 },
    Kind: { type: 'string', enum: ['A', 'B'] },
    Items: { type: 'list', member: { shape: 'Item' }, min: 1 },
    Item: { type: 'structure', required: ['Kind'], members: { Kind: { shape: 'Kind' } } },
    Choice: { type: 'structure', union: true, members: { One: { shape: 'Kind' }, Two: { shape: 'Kind' } } },
    Secret: { type: 'string', max: 2, sensitive: true },
    Doc: { type: 'structure', document: true },
  },
};

const validator = new RequestValidator(model);
const errors = (input: Record<string, unknown>) => validationMessage(validator.validate('Put', input));

describe('Class: RequestValidator', () => {
  describe('Method: validate', () => {
    it('accepts a request with every kind of member in range', () => {
      // Act
      const violations = validator.validate('Put', {
        Name: 'abc',
        Count: 10,
        Size: 2 ** 40,
        Ratio: 0.5,
        On: false,
        At: 1_700_000_000,
        Data: Buffer.from('abc').toString('base64'),
        Tags: { team: 'A', env: 'B' },
        Items: [{ Kind: 'A' }],
        Choice: { Two: 'B' },
        Secret: 'pw',
        Self: { Name: 'nested' },
        Free: { anything: [1, 'two', null] },
      });

      // Assess
      expect(violations).toEqual([]);
      expect(validator.validate('Ping', {})).toEqual([]);
    });

    it('names each broken constraint at its path, as AWS words it', () => {
      expect(errors({ Count: 11 })).toBe(
        "2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; Value '11' at 'count' failed to satisfy constraint: Member must have value less than or equal to 10",
      );
      expect(errors({ Name: 'abc1' })).toBe(
        "1 validation error detected: Value 'abc1' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+",
      );
      expect(errors({ Name: 'abcdefghi' })).toContain(
        "Value 'abcdefghi' at 'name' failed to satisfy constraint: Member must have length less than or equal to 8",
      );
      expect(errors({ Name: 'a', Items: [{ Kind: 'A' }, { Kind: 'C' }] })).toBe(
        "1 validation error detected: Value 'C' at 'items.2.member.kind' failed to satisfy constraint: Member must satisfy enum value set: [A, B]",
      );
      expect(errors({ Name: 'a', Items: [] })).toContain(
        "at 'items' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
      expect(errors({ Name: 'a', Tags: { x: 'A', y: 'A', z: 'A' } })).toContain(
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 2",
      );
      expect(errors({ Name: 'a', Data: Buffer.from('abcd').toString('base64') })).toContain(
        "at 'data' failed to satisfy constraint: Member must have length less than or equal to 3",
      );
      expect(errors({ Name: 'a', Self: { Count: -1 } })).toContain("Value null at 'self.name'");
      expect(errors({ Name: 'a', Choice: { One: 'A', Two: 'B' } })).toContain(
        "at 'choice' failed to satisfy constraint: Member must have exactly one member set",
      );
      // A sensitive value is never echoed
      expect(errors({ Name: 'a', Secret: 'hunter2' })).toBe(
        "1 validation error detected: Value at 'secret' failed to satisfy constraint: Member must have length less than or equal to 2",
      );
    });

    it('reports values of the wrong type as type violations', () => {
      // Act
      const violations = validator.validate('Put', {
        Name: 5,
        Count: 1.5,
        Size: '1',
        Ratio: 'x',
        On: 'true',
        At: 'yesterday',
        Items: {},
        Tags: [],
      });

      // Assess
      expect(violations.every((v) => v.kind === 'type')).toBe(true);
      expect(violations.map((v) => v.path)).toEqual(['name', 'count', 'size', 'ratio', 'on', 'at', 'tags', 'items']);
    });

    it('treats JSON null as an absent member', () => {
      expect(validator.validate('Put', { Name: 'a', Count: null })).toEqual([]);
    });
  });
});
