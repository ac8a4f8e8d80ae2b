/**
 * Synthetic parcel deliveries. The label is a known function of the inputs plus noise, shaped
 * like a carrier's network: service levels with their own line-haul speed and hub handling,
 * pick-up cut-offs, weekends, an island ferry, heavy and fragile parcels, and hub congestion
 * that bites above ~65 % load.
 *
 * `drift` in [0, 1] moves the world a release has not seen:
 * - inputs: longer distances, more express, more islands and central, busier hubs, more lockers;
 * - concept: every delivery takes longer (up to +35 %), the ferry slows, congestion doubles.
 */
import { Random, blend } from './prng.mjs';
import { WEEKDAYS } from './schema.mjs';

const REGION_MIX = { north: 0.22, south: 0.22, east: 0.2, west: 0.18, central: 0.13, islands: 0.05 };
const REGION_MIX_DRIFTED = { north: 0.1, south: 0.12, east: 0.1, west: 0.13, central: 0.3, islands: 0.25 };
const SERVICE_MIX = { economy: 0.35, standard: 0.45, express: 0.2 };
const SERVICE_MIX_DRIFTED = { economy: 0.15, standard: 0.35, express: 0.5 };
const DESTINATION_MIX = { residential: 0.6, business: 0.3, parcel_locker: 0.1 };
const DESTINATION_MIX_DRIFTED = { residential: 0.45, business: 0.2, parcel_locker: 0.35 };
const WEEKDAY_MIX = { mon: 0.19, tue: 0.18, wed: 0.17, thu: 0.17, fri: 0.16, sat: 0.09, sun: 0.04 };

const SERVICE = {
  // line-haul km per hour of elapsed time, hours of hub handling, pick-up cut-off hour
  economy: { speed: 22, handling: 30, cutoff: 14 },
  standard: { speed: 38, handling: 16, cutoff: 16 },
  express: { speed: 70, handling: 5, cutoff: 19 },
};
const REGION_FACTOR = { north: 1.0, south: 1.06, east: 0.95, west: 1.12, central: 0.88, islands: 1.35 };

/** Clamp to [lo, hi]. */
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

/**
 * Draw the features of one delivery.
 * @param {Random} rng
 * @param {number} drift
 */
function drawFeatures(rng, drift) {
  const hourDraw = rng.chance(0.6) ? rng.normal(11, 2.5) : rng.normal(16.5, 2);
  return {
    distance_km: Math.round(clamp(Math.exp(rng.normal(Math.log(220) + 0.6 * drift, 0.85)), 1, 4000) * 10) / 10,
    weight_kg: Math.round(clamp(Math.exp(rng.normal(Math.log(2.2), 0.95)), 0.05, 70) * 100) / 100,
    service_level: rng.weighted(blend(SERVICE_MIX, SERVICE_MIX_DRIFTED, drift)),
    origin_region: rng.weighted(blend(REGION_MIX, REGION_MIX_DRIFTED, drift)),
    destination_type: rng.weighted(blend(DESTINATION_MIX, DESTINATION_MIX_DRIFTED, drift)),
    weekday: rng.weighted(WEEKDAY_MIX),
    hour: clamp(Math.round(hourDraw), 0, 23),
    fragile: rng.chance(0.12) ? 1 : 0,
    package_count: Math.min(20, 1 + Math.floor(-Math.log(1 - rng.uniform()) / 0.9)),
    warehouse_load: Math.round(clamp(rng.normal(0.55 + 0.2 * drift, 0.14), 0.05, 1) * 1000) / 1000,
  };
}

/**
 * The noiseless delivery time of `f` in hours, under concept drift `drift`.
 * @param {ReturnType<typeof drawFeatures>} f
 * @param {number} drift
 */
export function expectedHours(f, drift = 0) {
  const s = SERVICE[f.service_level];
  const express = f.service_level === 'express';
  let hours = s.handling + f.distance_km / s.speed;
  // A parcel handed in after the cut-off waits for the next morning's line-haul.
  if (f.hour >= s.cutoff) hours += express ? 6 : 24 - f.hour + 8;
  // No line-haul on Sundays, a thin one on Saturdays; Friday-late parcels sit the weekend.
  const day = WEEKDAYS.indexOf(f.weekday);
  if (day === 6) hours += express ? 10 : 24;
  else if (day === 5) hours += express ? 6 : 30;
  else if (day === 4 && f.hour >= s.cutoff) hours += express ? 8 : 40;
  hours *= REGION_FACTOR[f.origin_region];
  if (f.origin_region === 'islands') hours += (express ? 8 : 20) * (1 + drift);
  hours += 0.35 * f.weight_kg + (f.weight_kg > 30 ? 12 : 0);
  if (f.fragile) hours = hours * 1.06 + 5;
  hours += 1.5 * (f.package_count - 1);
  const congestion = Math.max(0, f.warehouse_load - 0.65);
  hours += 260 * congestion * congestion * (express ? 0.5 : 1) * (1 + drift);
  if (f.destination_type === 'business' && day >= 4) hours += 10;
  if (f.destination_type === 'parcel_locker') hours -= 3;
  return Math.max(2, hours * (1 + 0.35 * drift));
}

/**
 * Generate deliveries with their observed delivery time.
 * @param {{ seed: number, n: number, drift?: number }} options
 * @returns {Record<string, string | number>[]} feature columns plus `delivery_hours`
 */
export function generateRows({ seed, n, drift = 0 }) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n: expected a non-negative integer, got ${n}`);
  if (!(drift >= 0 && drift <= 1)) throw new RangeError(`drift: expected a number in [0, 1], got ${drift}`);
  const rng = new Random(seed);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const f = drawFeatures(rng, drift);
    // Multiplicative noise (traffic, weather) plus a little additive scan-time noise.
    const observed = expectedHours(f, drift) * Math.exp(rng.normal(0, 0.1)) + rng.normal(0, 1.5);
    rows.push({ ...f, delivery_hours: Math.round(Math.max(1, observed) * 10) / 10 });
  }
  return rows;
}
