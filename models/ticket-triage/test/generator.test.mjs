import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateRows } from '../lib/generator.mjs';
import { fitModel, predictInstances } from '../lib/model.mjs';
import { CATEGORIES, CHANNELS, LABEL, TIERS } from '../lib/schema.mjs';

const share = (rows, key, value) => rows.filter((r) => r[key] === value).length / rows.length;

describe('Module: generator', () => {
  describe('Method: generateRows', () => {
    it('is deterministic for a seed', () => {
      assert.deepEqual(generateRows({ seed: 9, n: 50 }), generateRows({ seed: 9, n: 50 }));
      assert.notDeepEqual(generateRows({ seed: 9, n: 50 }), generateRows({ seed: 10, n: 50 }));
    });

    it('writes known categories, channels and tiers, and non-empty text without unfilled slots', () => {
      for (const r of generateRows({ seed: 2, n: 2000 })) {
        assert.ok(CATEGORIES.includes(r[LABEL]), r[LABEL]);
        assert.ok(CHANNELS.includes(r.channel), r.channel);
        assert.ok(TIERS.includes(r.customer_tier), r.customer_tier);
        assert.ok(r.text.length > 10 && !/[{}]/.test(r.text), r.text);
      }
    });

    it('shifts the inputs under drift: more fraud, a new channel, new words', () => {
      const base = generateRows({ seed: 4, n: 4000 });
      const drifted = generateRows({ seed: 4, n: 4000, drift: 1 });
      assert.ok(share(drifted, LABEL, 'fraud') > 2.5 * share(base, LABEL, 'fraud'));
      assert.equal(share(base, 'channel', 'whatsapp'), 0);
      assert.ok(share(drifted, 'channel', 'whatsapp') > 0.1);
      const hasNewWord = (r) => /passkey|drone|sim swap|locker|crypto|instalment|try-on/i.test(r.text);
      assert.equal(base.filter(hasNewWord).length, 0);
      assert.ok(drifted.filter(hasNewWord).length > 0.25 * drifted.length);
    });

    it('re-labels the same text under concept drift', () => {
      // Among tickets about a parcel marked delivered but missing (as shipping or returns),
      // the share the returns team owns.
      const returnsShare = (rows) => {
        const about = rows.filter((r) => /marked delivered but I never received/i.test(r.text) && ['shipping', 'returns'].includes(r[LABEL]));
        return about.filter((r) => r[LABEL] === 'returns').length / about.length;
      };
      assert.ok(returnsShare(generateRows({ seed: 5, n: 20000 })) < 0.1);
      assert.ok(returnsShare(generateRows({ seed: 5, n: 20000, drift: 1 })) > 0.6);
    });

    it('makes a model trained before drift clearly worse after it', () => {
      const model = fitModel(generateRows({ seed: 6, n: 3000 }));
      const accuracy = (rows) => predictInstances(model, rows).filter((p, i) => p.label === rows[i][LABEL]).length / rows.length;
      const before = accuracy(generateRows({ seed: 7, n: 800 }));
      const after = accuracy(generateRows({ seed: 7, n: 800, drift: 1 }));
      assert.ok(before > 0.8, `accuracy before drift ${before}`);
      assert.ok(after < before - 0.2, `accuracy ${before} -> ${after}`);
    });

    it('rejects a drift outside [0, 1] and a bad row count', () => {
      assert.throws(() => generateRows({ seed: 1, n: 5, drift: -0.1 }), /drift/);
      assert.throws(() => generateRows({ seed: 1, n: 1.5 }), /n:/);
    });
  });
});
