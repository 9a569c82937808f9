/**
 * An exact set of strings that costs a few bytes more than the strings' UTF-8 bytes, for the
 * millions of prompt ids of `aurora-swarm run` (duplicate ids, skipping what is done on a
 * rerun) and of `job collect`.
 *
 * Why not a `Set<string>`: every member of a JS Set is a heap string (~40 bytes of header and
 * padding for an id like `"q-0000001`) plus ~30 bytes of hash table, all of it on the V8 heap,
 * whose size also sets how far the heap grows between collections: 1,000,000 ids made `run`
 * peak at ~400 MB. Here the keys' bytes live in one growable byte arena outside the V8 heap,
 * indexed by an open-addressing table (linear probing) of entry numbers: per entry 4 bytes of
 * arena offset, 1/8 byte of "deleted" bit and 1.3–2.7 table slots of 4 bytes, plus the key's
 * bytes (~20–25 bytes an id like `"q-0000001`, arrays grown by half when full).
 *
 * Exact: a lookup compares the key's bytes with the stored ones; the hash only chooses where
 * to look (a collision costs a byte comparison, never a wrong answer). The hash function can
 * be replaced (tests force every key onto one hash to exercise that path).
 *
 * It implements `Set<string>`; deleted entries keep their place in iteration order (a key
 * deleted and added again comes back where it was, unlike a `Set`).
 */

const EMPTY = 0;
const MAX_LOAD = 0.75;
const INITIAL_ENTRIES = 1024;
const INITIAL_SLOTS = 2048;
const INITIAL_ARENA = 16 * 1024;
/** Arrays grow by half: less slack than doubling, at a few more copies. */
const GROWTH = 1.5;
/** The arena's offsets are 32-bit. */
const MAX_ARENA_BYTES = 2 ** 32 - 1;

/** A hash of `bytes[start, end)`; any 32-bit unsigned integer. */
export type ByteHash = (bytes: Uint8Array, start: number, end: number) => number;

/** FNV-1a, 32 bits: short keys, good spread, no allocation. */
export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let index = start; index < end; index++) {
    hash ^= bytes[index] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CompactStringSet implements Set<string> {
  readonly #hash: ByteHash;
  /** Key bytes, entry after entry. */
  #arena = new Uint8Array(INITIAL_ARENA);
  #arenaUsed = 0;
  /** Entry i's bytes are arena[starts[i], starts[i + 1]). */
  #starts = new Uint32Array(INITIAL_ENTRIES + 1);
  /** Bit i set: entry i is deleted. */
  #deleted = new Uint8Array(INITIAL_ENTRIES / 8);
  #entries = 0;
  #live = 0;
  /** Entry number + 1, or EMPTY; the length is a power of two. */
  #slots = new Int32Array(INITIAL_SLOTS);
  /** The key being looked up, encoded (grown as needed). */
  #scratch = new Uint8Array(256);
  #scratchLength = 0;

  constructor(values?: Iterable<string>, hash: ByteHash = fnv1a) {
    this.#hash = hash;
    if (values !== undefined) for (const value of values) this.add(value);
  }

  get size(): number {
    return this.#live;
  }

  /** Bytes held by the arena and tables (what the set costs, outside the V8 heap). */
  get byteLength(): number {
    return (
      this.#arena.byteLength +
      this.#starts.byteLength +
      this.#deleted.byteLength +
      this.#slots.byteLength
    );
  }

  has(value: string): boolean {
    const entry = this.#find(value);
    return entry >= 0 && !this.#isDeleted(entry);
  }

  add(value: string): this {
    this.#insert(value);
    return this;
  }

  /**
   * Add `value`; `true` if it was not in the set. Entries are numbered in the order they
   * were first added (0, 1, …), so a caller can keep data of its own per entry.
   */
  insert(value: string): boolean {
    return this.#insert(value);
  }

  /** The number of `value`'s entry (see {@link insert}), or -1 when it is not in the set. */
  entryOf(value: string): number {
    const entry = this.#find(value);
    return entry >= 0 && !this.#isDeleted(entry) ? entry : -1;
  }

  delete(value: string): boolean {
    const entry = this.#find(value);
    if (entry < 0 || this.#isDeleted(entry)) return false;
    this.#setDeleted(entry, true);
    this.#live--;
    return true;
  }

  clear(): void {
    this.#arena = new Uint8Array(INITIAL_ARENA);
    this.#arenaUsed = 0;
    this.#starts = new Uint32Array(INITIAL_ENTRIES + 1);
    this.#deleted = new Uint8Array(INITIAL_ENTRIES / 8);
    this.#slots = new Int32Array(INITIAL_SLOTS);
    this.#entries = 0;
    this.#live = 0;
  }

  *values(): SetIterator<string> {
    for (let entry = 0; entry < this.#entries; entry++) {
      if (!this.#isDeleted(entry)) yield this.#keyOf(entry);
    }
  }

  keys(): SetIterator<string> {
    return this.values();
  }

  *entries(): SetIterator<[string, string]> {
    for (const value of this.values()) yield [value, value];
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.values();
  }

  forEach(callback: (value: string, key: string, set: Set<string>) => void, thisArg?: unknown) {
    for (const value of this.values()) callback.call(thisArg, value, value, this);
  }

  get [Symbol.toStringTag](): string {
    return 'CompactStringSet';
  }

  #isDeleted(entry: number): boolean {
    return ((this.#deleted[entry >>> 3] as number) & (1 << (entry & 7))) !== 0;
  }

  #setDeleted(entry: number, deleted: boolean): void {
    const byte = entry >>> 3;
    const bit = 1 << (entry & 7);
    const value = this.#deleted[byte] as number;
    this.#deleted[byte] = deleted ? value | bit : value & ~bit;
  }

  #keyOf(entry: number): string {
    return decoder.decode(
      this.#arena.subarray(this.#starts[entry] as number, this.#starts[entry + 1] as number),
    );
  }

  /** Encode `value` into the scratch buffer; returns its hash. */
  #encode(value: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.#scratch.length < value.length * 3) {
      this.#scratch = new Uint8Array(Math.max(value.length * 3, this.#scratch.length * 2));
    }
    this.#scratchLength = encoder.encodeInto(value, this.#scratch).written;
    return this.#hash(this.#scratch, 0, this.#scratchLength) >>> 0;
  }

  /** The entry holding `value`'s bytes (deleted or not), or -1. */
  #find(value: string): number {
    const hash = this.#encode(value);
    return this.#probe(hash, false);
  }

  /** The hash of entry `entry`'s stored bytes (when the table grows). */
  #hashOf(entry: number): number {
    return (
      this.#hash(this.#arena, this.#starts[entry] as number, this.#starts[entry + 1] as number) >>>
      0
    );
  }

  /**
   * Look for the scratch key with `hash`; with `claim`, an absent key's empty slot is taken
   * for a new entry (whose number is returned as `-(entry + 2)`).
   */
  #probe(hash: number, claim: boolean): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const held = slots[slot] as number;
      if (held === EMPTY) {
        if (!claim) return -1;
        const entry = this.#append();
        slots[slot] = entry + 1;
        return -(entry + 2);
      }
      const entry = held - 1;
      if (this.#sameBytes(entry)) return entry;
    }
  }

  #sameBytes(entry: number): boolean {
    const start = this.#starts[entry] as number;
    const length = this.#scratchLength;
    if ((this.#starts[entry + 1] as number) - start !== length) return false;
    const arena = this.#arena;
    const scratch = this.#scratch;
    for (let index = 0; index < length; index++) {
      if (arena[start + index] !== scratch[index]) return false;
    }
    return true;
  }

  #insert(value: string): boolean {
    if ((this.#entries + 1) / this.#slots.length > MAX_LOAD) this.#growSlots();
    const hash = this.#encode(value);
    const found = this.#probe(hash, true);
    if (found <= -2) {
      this.#live++;
      return true;
    }
    if (this.#isDeleted(found)) {
      this.#setDeleted(found, false);
      this.#live++;
      return true;
    }
    return false;
  }

  /** Store the scratch key as a new entry; returns its number. */
  #append(): number {
    const entry = this.#entries;
    if (entry + 1 >= this.#starts.length) this.#growEntries();
    const length = this.#scratchLength;
    if (this.#arenaUsed + length > this.#arena.length) this.#growArena(this.#arenaUsed + length);
    this.#arena.set(this.#scratch.subarray(0, length), this.#arenaUsed);
    this.#arenaUsed += length;
    this.#starts[entry + 1] = this.#arenaUsed;
    this.#entries = entry + 1;
    return entry;
  }

  #growArena(needed: number): void {
    if (needed > MAX_ARENA_BYTES) {
      throw new RangeError(`CompactStringSet: more than ${MAX_ARENA_BYTES} bytes of keys`);
    }
    const grown = new Uint8Array(
      Math.min(MAX_ARENA_BYTES, Math.max(needed, Math.ceil(this.#arena.length * GROWTH))),
    );
    grown.set(this.#arena.subarray(0, this.#arenaUsed));
    this.#arena = grown;
  }

  #growEntries(): void {
    // A multiple of 8 entries, so that the deleted bits fill whole bytes.
    const capacity = Math.ceil(((this.#starts.length - 1) * GROWTH) / 8) * 8;
    const starts = new Uint32Array(capacity + 1);
    starts.set(this.#starts);
    const deleted = new Uint8Array(capacity / 8);
    deleted.set(this.#deleted);
    this.#starts = starts;
    this.#deleted = deleted;
  }

  #growSlots(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.#entries; entry++) {
      let slot = this.#hashOf(entry) & mask;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.#slots = slots;
  }
}
