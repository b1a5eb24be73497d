import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ignoreDamage, type OnDamage } from '../core/damage.ts';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { writeFileAtomic } from '../store/atomicFile.ts';
import type { LocalStore } from '../store/types.ts';
import { isAlive } from '../store/liveness.ts';
import { VALID_NAME, randomName } from './names.ts';
import type { ContainerRecord, ContainerState, ContainerView } from './types.ts';

const ID_RE = /^[0-9a-f]{64}$/;
const RECORD = 'container.json';
const LOCK = 'containers';

/** NewContainer is what create needs; id, created time and state are filled in. */
export type NewContainer = Omit<ContainerRecord, 'id' | 'name' | 'created' | 'state' | 'stubs'> & { name?: string };

/**
 * ContainerStore keeps container records in ROOT/containers/<id>/container.json.
 * Every mutation is a read-modify-write under the store lock `containers`,
 * written to tmp/ and renamed into place, so readers never see a torn record
 * and names stay unique across concurrent tsbuild processes. A record found damaged
 * anyway (a failing disk; empty, cut, garbage) is left alone, since its directory holds
 * the container's changes, and is reported to onDamage: commands see no such container,
 * and `tsbuild fsck` names its directory for the user to remove.
 */
export class ContainerStore {
  readonly #store: LocalStore;
  readonly #onDamage: OnDamage;

  constructor(store: LocalStore, opts: { onDamage?: OnDamage } = {}) {
    this.#store = store;
    this.#onDamage = opts.onDamage ?? ignoreDamage;
  }

  /** dirOf is the directory of container id (it may not exist). */
  dirOf(id: string): string {
    return join(this.#store.dirs.containers, id);
  }

  /**
   * create makes the container's directory and record (status `created`).
   * A name in use throws NAME_IN_USE with Docker's wording; without a name a
   * free random one is picked.
   */
  async create(c: NewContainer, now: Date): Promise<ContainerView> {
    if (c.name !== undefined && !VALID_NAME.test(c.name)) {
      throw new TsbuildError('USAGE', `Invalid container name (${c.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    return this.#store.withLock(LOCK, async () => {
      const all = await this.#readAll();
      const taken = new Map(all.map((r) => [r.name, r.id]));
      let name = c.name?.replace(/^\//, '');
      if (name !== undefined && taken.has(name)) {
        throw new TsbuildError('NAME_IN_USE', `Conflict. The container name "/${name}" is already in use by container "${taken.get(name)}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      for (let i = 0; name === undefined; i++) {
        const n = randomName(i);
        if (!taken.has(n)) name = n;
      }
      const rec: ContainerRecord = { ...c, id: randomBytes(32).toString('hex'), name, created: now.toISOString(), stubs: [], state: { status: 'created' } };
      await mkdir(this.dirOf(rec.id), { mode: 0o700 });
      await this.#write(rec);
      return { ...rec, dir: this.dirOf(rec.id) };
    });
  }

  /** list returns every container, newest first, with live status (see view). */
  async list(): Promise<ContainerView[]> {
    const recs = await this.#readAll();
    const views = await Promise.all(recs.map((r) => this.view(r)));
    return views.sort((a, b) => b.created.localeCompare(a.created));
  }

  /**
   * resolve finds a container as Docker does: by full id, then by name (a
   * leading `/` allowed), then by a unique id prefix. Throws CONTAINER_NOT_FOUND
   * (`No such container: REF`), or BAD_REFERENCE for an ambiguous prefix.
   */
  async resolve(ref: string): Promise<ContainerView> {
    const all = await this.#readAll();
    const name = ref.replace(/^\//, '');
    const hit = all.find((r) => r.id === ref) ?? all.find((r) => r.name === name);
    if (hit) return this.view(hit);
    const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((r) => r.id.startsWith(ref)) : [];
    if (byPrefix.length > 1) throw new TsbuildError('BAD_REFERENCE', `multiple IDs found with provided prefix: ${ref}`);
    if (byPrefix.length === 1) return this.view(byPrefix[0]!);
    throw new TsbuildError('CONTAINER_NOT_FOUND', `No such container: ${ref}`, { hint: "'tsbuild ps -a' lists containers" });
  }

  /**
   * update applies fn to the stored record under the lock and writes it back;
   * returns the new record, or undefined when the container is gone (removed
   * meanwhile, e.g. by `rm -f` from another process).
   */
  async update(id: string, fn: (r: ContainerRecord) => void): Promise<ContainerRecord | undefined> {
    return this.#store.withLock(LOCK, async () => {
      const rec = await this.#read(id);
      if (!rec) return undefined;
      fn(rec);
      await this.#write(rec);
      return rec;
    });
  }

  /**
   * claim makes the calling process the container's supervisor: under the lock,
   * a container some other live process supervises throws CONTAINER_RUNNING;
   * otherwise the status becomes `running` with owner's liveness id, pid and start time (the
   * rest of the state is kept until the process has started). Returns the state
   * it had, to put back if starting fails early.
   */
  async claim(id: string, owner: { owner: string; pid: number; pidStart?: number }): Promise<ContainerState> {
    return this.#store.withLock(LOCK, async () => {
      const rec = await this.#read(id);
      if (!rec) throw new TsbuildError('CONTAINER_NOT_FOUND', `No such container: ${id}`);
      if ((await this.view(rec)).state.status === 'running') {
        throw new TsbuildError('CONTAINER_RUNNING', `container ${rec.name} is already running`);
      }
      const prev = structuredClone(rec.state);
      rec.state = { ...rec.state, status: 'running', owner: owner.owner, pid: owner.pid };
      if (owner.pidStart !== undefined) rec.state.pidStart = owner.pidStart;
      else delete rec.state.pidStart;
      await this.#write(rec);
      return prev;
    });
  }

  /**
   * delete removes the container's directory. Its record disappears first (the
   * directory is renamed into tmp/ under the lock), so no reader ever sees a
   * half-deleted container. The caller must have unmounted everything in it.
   */
  async delete(id: string): Promise<void> {
    const trash = join(this.#store.dirs.tmp, `rm-container-${id.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    const moved = await this.#store.withLock(LOCK, async () => {
      try {
        await rename(this.dirOf(id), trash);
        return true;
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return false;
        throw e;
      }
    });
    if (moved) await rm(trash, { recursive: true, force: true });
  }

  /**
   * view adds the live status: a record that says `running` whose supervising
   * tsbuild process is gone (crashed, killed) is reported `exited` (code 255 when
   * none was recorded), so a crash never leaves a container "running" forever.
   */
  async view(r: ContainerRecord): Promise<ContainerView> {
    const v: ContainerView = { ...r, state: { ...r.state }, dir: this.dirOf(r.id) };
    if (r.state.status === 'running' && !(r.state.owner !== undefined && (await isAlive(this.#store.dirs.tmp, r.state.owner)))) {
      v.state.status = 'exited';
      v.state.exitCode ??= 255;
    }
    return v;
  }

  /**
   * check lists the containers whose record is damaged (`tsbuild fsck`), reporting each:
   * nothing is repaired, the directory holds the container's changes.
   */
  async check(onDamage: OnDamage): Promise<number> {
    let damaged = 0;
    for (const id of await this.#ids()) {
      const r = await this.#load(id);
      if (r.kind !== 'damaged') continue;
      damaged++;
      onDamage({ what: `container ${id.slice(0, 12)}`, problem: r.problem, action: `left alone (its changes are in ${this.dirOf(id)}: remove that directory to drop it)`, fixed: false });
    }
    return damaged;
  }

  async #ids(): Promise<string[]> {
    try {
      return (await readdir(this.#store.dirs.containers)).filter((n) => ID_RE.test(n));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return [];
      throw e;
    }
  }

  async #readAll(): Promise<ContainerRecord[]> {
    const recs = await Promise.all((await this.#ids()).map((n) => this.#read(n)));
    return recs.filter((r): r is ContainerRecord => r !== undefined);
  }

  /** read gives the record of id, or undefined when there is none or it is damaged (reported). */
  async #read(id: string): Promise<ContainerRecord | undefined> {
    const r = await this.#load(id);
    if (r.kind === 'record') return r.record;
    if (r.kind === 'damaged') this.#onDamage({ what: `container ${id.slice(0, 12)}`, problem: r.problem, action: `skipped (its changes are in ${this.dirOf(id)})`, fixed: false });
    return undefined;
  }

  async #load(id: string): Promise<{ kind: 'absent' } | { kind: 'record'; record: ContainerRecord } | { kind: 'damaged'; problem: string }> {
    let text: string;
    try {
      text = await readFile(join(this.dirOf(id), RECORD), 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return { kind: 'absent' };
      throw e;
    }
    if (text.length === 0) return { kind: 'damaged', problem: `${RECORD} is empty` };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { kind: 'damaged', problem: `${RECORD} is not JSON (${text.length} bytes, cut or garbage)` };
    }
    const r = value as Partial<ContainerRecord> | null;
    const sound = typeof r === 'object' && r !== null && r.id === id && typeof r.name === 'string' && typeof r.created === 'string'
      && typeof r.image === 'object' && r.image !== null && Array.isArray(r.image.layers) && typeof r.state === 'object' && r.state !== null
      && typeof r.state.status === 'string' && Array.isArray(r.args) && Array.isArray(r.stubs);
    return sound ? { kind: 'record', record: r as ContainerRecord } : { kind: 'damaged', problem: `${RECORD} is not a record of this container` };
  }

  async #write(rec: ContainerRecord): Promise<void> {
    await writeFileAtomic(this.#store.dirs.tmp, join(this.dirOf(rec.id), RECORD), JSON.stringify(rec, null, 2));
  }
}
