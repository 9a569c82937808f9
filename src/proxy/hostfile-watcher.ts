/**
 * Noticing that the hostfile changed on disk. Editors rarely write in place: many
 * write a new file and rename it over the old one, which silently ends a watch on
 * the file itself. So both the file and its directory are watched (the directory's
 * events are filtered by file name), the file's watch is re-armed after each
 * change, and a burst of events (truncate, write, rename...) is debounced into a
 * single notification.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Quiet time after the last file event before the hostfile is read, in milliseconds. */
const HOSTFILE_DEBOUNCE_MS = 150;

/** Calls `onChange` (debounced) whenever the file at `path` may have changed. */
export class HostfileWatcher {
  readonly #path: string;
  readonly #name: string;
  readonly #onChange: () => void;
  readonly #debounceMs: number;
  #directoryWatcher: FSWatcher | undefined;
  #fileWatcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(path: string, onChange: () => void, debounceMs: number = HOSTFILE_DEBOUNCE_MS) {
    this.#path = path;
    this.#name = basename(path);
    this.#onChange = onChange;
    this.#debounceMs = debounceMs;
    this.#directoryWatcher = this.#watch(dirname(path), (fileName) => {
      // Some platforms give no file name: then any change in the directory counts.
      if (fileName === null || fileName === this.#name) this.#schedule();
    });
    this.#armFileWatcher();
  }

  /** Stop watching. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#directoryWatcher?.close();
    this.#fileWatcher?.close();
  }

  #watch(path: string, onEvent: (fileName: string | null) => void): FSWatcher | undefined {
    try {
      const watcher = watch(path, { persistent: false }, (_event, fileName) =>
        onEvent(fileName === null ? null : String(fileName)),
      );
      // E.g. the file was removed: the directory watch still reports its return.
      watcher.on('error', () => watcher.close());
      return watcher;
    } catch {
      return undefined;
    }
  }

  #armFileWatcher(): void {
    this.#fileWatcher?.close();
    this.#fileWatcher = this.#watch(this.#path, () => this.#schedule());
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      // The file may be a new inode now (rename over it): watch that one.
      this.#armFileWatcher();
      this.#onChange();
    }, this.#debounceMs);
    this.#timer.unref();
  }
}
