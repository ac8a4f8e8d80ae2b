import { DriftSession } from '/work/main/lambdas/ml/drift';
import { mulberry32 } from '/work/main/lambdas/ml/prng';
const rand = mulberry32(1);
const N = 100000, M = 200000;
const mk = (n: number, s: number) => { const a = new Float64Array(n); for (let i = 0; i < n; i++) a[i] = Math.sqrt(-2*Math.log(1-rand()))*Math.cos(2*Math.PI*rand()) + s; return a; };
const CATS = Array.from({ length: 12 }, (_, i) => `c${i}`);
const ref: Record<string, Float64Array | string[]> = {}; const cur: Record<string, Float64Array | string[]> = {};
const features = [] as any[];
for (let j = 0; j < 10; j++) { ref['x'+j] = mk(N, 0); cur['x'+j] = mk(M, j%2 ? 0.1 : 0); features.push({name:'x'+j,type:'numeric',critical:false}); }
for (let j = 0; j < 3; j++) { ref['k'+j] = Array.from({length:N},()=>CATS[Math.floor(rand()*12)]!); cur['k'+j] = Array.from({length:M},()=>CATS[Math.floor(rand()*12)]!); features.push({name:'k'+j,type:'categorical',critical:false}); }
let t = performance.now();
const s = new DriftSession(ref, features);
console.log('ref', performance.now() - t); t = performance.now();
s.push(cur); console.log('pass1', performance.now() - t); t = performance.now();
console.log(s.needsRefine()); console.log('begin', performance.now() - t); t = performance.now();
s.refine(cur); console.log('pass2', performance.now() - t); t = performance.now();
const r = s.report(); console.log('report', performance.now() - t, r.verdict);
