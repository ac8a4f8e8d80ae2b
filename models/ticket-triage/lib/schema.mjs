/**
 * The ticket-triage model's inputs and label: the one list the generator, the featurizer,
 * the trainer and the server share. `models/ticket-triage/model.yaml` lists the same
 * features in the same order (a repository test checks it), and that order is the CSV
 * column order.
 */

export const LABEL = 'category';

export const CATEGORIES = ['account', 'billing', 'fraud', 'returns', 'shipping', 'technical'];
export const CHANNELS = ['email', 'chat', 'phone', 'web', 'social'];
export const TIERS = ['free', 'standard', 'premium'];

/** @type {{ name: string, type: 'text' | 'categorical', values?: string[] }[]} */
export const FEATURES = [
  { name: 'text', type: 'text' },
  { name: 'channel', type: 'categorical', values: CHANNELS },
  { name: 'customer_tier', type: 'categorical', values: TIERS },
];

export const COLUMNS = [...FEATURES.map((f) => f.name), LABEL];
