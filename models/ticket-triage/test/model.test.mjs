import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fitVectorizer, terms, tokenize, vectorize, width } from '../lib/features.mjs';
import { classificationMetrics } from '../lib/metrics.mjs';
import { argmax, fitModel, predictInstances } from '../lib/model.mjs';
import { predictProba, trainSoftmax } from '../lib/softmax.mjs';

describe('Module: features', () => {
  describe('Method: tokenize / terms', () => {
    it('lowercases words, keeps apostrophes and drops numbers', () => {
      assert.deepEqual(tokenize("Order #12345 DIDN'T arrive, $20.50"), ['order', "didn't", 'arrive']);
    });

    it('adds bigrams after the unigrams', () => {
      assert.deepEqual(terms(['a', 'b', 'c']), ['a', 'b', 'c', 'a b', 'b c']);
    });
  });

  describe('Method: fitVectorizer / vectorize', () => {
    const rows = [
      { text: 'refund please', channel: 'email', customer_tier: 'free' },
      { text: 'refund now', channel: 'chat', customer_tier: 'free' },
      { text: 'where is my parcel', channel: 'email', customer_tier: 'premium' },
      { text: 'my parcel is late', channel: 'email', customer_tier: 'free' },
    ];
    const v = fitVectorizer(rows, { minDf: 2 });

    it('keeps terms with document frequency >= minDf, most frequent first', () => {
      assert.deepEqual(v.vocabulary, ['is', 'my', 'my parcel', 'parcel', 'refund']);
      // every kept term is in exactly 2 of 4 documents: idf = ln(5/3) + 1
      for (const idf of v.idf) assert.ok(Math.abs(idf - (Math.log(5 / 3) + 1)) < 1e-12);
      assert.deepEqual(v.categorical.map((c) => `${c.source}=${c.value}`), ['channel=chat', 'channel=email', 'customer_tier=free', 'customer_tier=premium']);
    });

    it('gives the text part unit length and sets one column per categorical', () => {
      const x = vectorize(v, { text: 'my parcel my parcel refund', channel: 'email', customer_tier: 'premium' });
      const textNorm = Math.sqrt([...x.index].reduce((s, j, t) => s + (j < v.vocabulary.length ? x.value[t] ** 2 : 0), 0));
      assert.ok(Math.abs(textNorm - 1) < 1e-12);
      const cats = [...x.index].filter((j) => j >= v.vocabulary.length);
      assert.equal(cats.length, 2);
      // sublinear tf: "my" twice weighs (1 + ln 2) times "refund" once, with equal idf
      const w = (term) => x.value[[...x.index].indexOf(v.vocabulary.indexOf(term))];
      assert.ok(Math.abs(w('my') / w('refund') - (1 + Math.log(2))) < 1e-12);
      assert.equal(width(v), v.vocabulary.length + 4);
    });

    it('ignores unknown words and unseen categories', () => {
      const x = vectorize(v, { text: 'zebra', channel: 'whatsapp', customer_tier: 'gold' });
      assert.equal(x.index.length, 0);
    });
  });
});

describe('Module: softmax', () => {
  describe('Method: trainSoftmax', () => {
    // Three classes, each marked by its own column; column 3 is shared noise.
    const X = [];
    const y = [];
    for (let i = 0; i < 300; i++) {
      const k = i % 3;
      X.push({ index: Int32Array.from([k, 3]), value: Float64Array.from([1, 0.5]) });
      y.push(['a', 'b', 'c'][k]);
    }

    it('separates separable classes with confident, normalized probabilities', () => {
      const model = trainSoftmax(X, y, 4, { epochs: 20 });
      assert.deepEqual(model.classes, ['a', 'b', 'c']);
      for (let k = 0; k < 3; k++) {
        const p = predictProba(model, X[k]);
        assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-12);
        assert.ok(p[k] > 0.9, `class ${k}: ${Array.from(p)}`);
      }
    });

    it('falls back on the class priors for a row with no known feature', () => {
      const skewed = trainSoftmax(X.slice(0, 200), y.slice(0, 200).map((l, i) => (i % 4 === 0 ? 'b' : 'a')), 4);
      const p = predictProba(skewed, { index: new Int32Array(0), value: new Float64Array(0) });
      assert.ok(p[0] > p[1], `priors ${Array.from(p)}`);
    });

    it('shrinks weights harder with a larger lambda', () => {
      const norm = (m) => Math.sqrt(m.weights.reduce((s, w) => s + w * w, 0));
      assert.ok(norm(trainSoftmax(X, y, 4, { lambda: 0.1 })) < 0.5 * norm(trainSoftmax(X, y, 4, { lambda: 1e-6 })));
    });

    it('is deterministic for a seed', () => {
      assert.deepEqual(trainSoftmax(X, y, 4, { seed: 3 }), trainSoftmax(X, y, 4, { seed: 3 }));
    });
  });
});

describe('Module: metrics', () => {
  describe('Method: classificationMetrics', () => {
    it('matches hand-computed values', () => {
      // Prepare: a: tp 1 fn 1; b: tp 1 fp 1
      const m = classificationMetrics(['a', 'a', 'b'], ['a', 'b', 'b'], [{ a: 0.9, b: 0.1 }, { a: 0.4, b: 0.6 }, { a: 0.2, b: 0.8 }]);
      // Assess
      assert.equal(m.accuracy, 2 / 3);
      assert.deepEqual(m.perClass.a, { precision: 1, recall: 0.5, f1: 2 / 3, support: 2 });
      assert.deepEqual(m.perClass.b, { precision: 0.5, recall: 1, f1: 2 / 3, support: 1 });
      assert.ok(Math.abs(m.macro_f1 - 2 / 3) < 1e-12);
      assert.ok(Math.abs(m.log_loss - -(Math.log(0.9) + Math.log(0.4) + Math.log(0.8)) / 3) < 1e-12);
    });
  });
});

describe('Module: model', () => {
  it('predicts { label, scores } where the label has the top score', () => {
    const rows = [
      ...Array.from({ length: 20 }, (_, i) => ({ text: `refund my money ${i}`, channel: i % 2 ? 'chat' : 'email', customer_tier: 'free', category: 'billing' })),
      ...Array.from({ length: 20 }, (_, i) => ({ text: `parcel is late ${i}`, channel: i % 2 ? 'chat' : 'email', customer_tier: 'free', category: 'shipping' })),
    ];
    const model = fitModel(rows);
    const [p] = predictInstances(model, [{ text: 'late parcel', channel: 'email', customer_tier: 'free' }]);
    assert.equal(p.label, 'shipping');
    assert.deepEqual(Object.keys(p.scores), ['billing', 'shipping']);
    assert.equal(argmax(p.scores), p.label);
  });
});
