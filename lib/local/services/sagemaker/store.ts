import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../core/fsutil';

/**
 * One kind of SageMaker resource persisted as one JSON file per resource, written atomically,
 * and mirrored in memory (the control plane reads far more often than it writes).
 */
export class ResourceStore<T extends object> {
  private readonly items = new Map<string, T>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      this.items.set(file.slice(0, -5), JSON.parse(readFileSync(join(dir, file), 'utf8')) as T);
    }
  }

  get(name: string): T | undefined {
    return this.items.get(name);
  }

  has(name: string): boolean {
    return this.items.has(name);
  }

  values(): T[] {
    return [...this.items.values()];
  }

  put(name: string, item: T): void {
    this.items.set(name, item);
    writeJsonAtomic(join(this.dir, `${name}.json`), item);
  }

  delete(name: string): void {
    this.items.delete(name);
    const path = join(this.dir, `${name}.json`);
    if (existsSync(path)) rmSync(path);
  }
}
