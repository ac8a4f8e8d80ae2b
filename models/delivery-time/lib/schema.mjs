/**
 * The delivery-time model's inputs and label: the one list the generator, the encoder, the
 * trainer and the server share. `models/delivery-time/model.yaml` lists the same features
 * in the same order (a repository test checks it), and that order is the CSV column order.
 */

export const LABEL = 'delivery_hours';

export const SERVICE_LEVELS = ['economy', 'standard', 'express'];
export const REGIONS = ['north', 'south', 'east', 'west', 'central', 'islands'];
export const DESTINATIONS = ['residential', 'business', 'parcel_locker'];
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** @type {{ name: string, type: 'numeric' | 'categorical', min?: number, max?: number, integer?: boolean, values?: string[] }[]} */
export const FEATURES = [
  { name: 'distance_km', type: 'numeric', min: 0, max: 20_000 },
  { name: 'weight_kg', type: 'numeric', min: 0, max: 1_000 },
  { name: 'service_level', type: 'categorical', values: SERVICE_LEVELS },
  { name: 'origin_region', type: 'categorical', values: REGIONS },
  { name: 'destination_type', type: 'categorical', values: DESTINATIONS },
  { name: 'weekday', type: 'categorical', values: WEEKDAYS },
  { name: 'hour', type: 'numeric', min: 0, max: 23, integer: true },
  { name: 'fragile', type: 'numeric', min: 0, max: 1, integer: true },
  { name: 'package_count', type: 'numeric', min: 1, max: 100, integer: true },
  { name: 'warehouse_load', type: 'numeric', min: 0, max: 1 },
];

export const COLUMNS = [...FEATURES.map((f) => f.name), LABEL];
