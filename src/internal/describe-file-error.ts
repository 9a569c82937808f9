/**
 * A file-system error in words a person can act on: `no such directory`, `permission
 * denied`, not `ENOENT: no such file or directory, open 'x'`. Internal.
 */

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EEXIST: 'already exists',
  EBUSY: 'busy',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/** The reason of a Node file-system error, in words (without the code and the path). */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const known = code === undefined ? undefined : REASONS[code];
  if (known !== undefined) return known;
  const message = error instanceof Error ? error.message : String(error);
  // "EXDEV: cross-device link not permitted, rename 'a' -> 'b'" → "cross-device link not permitted"
  return message.replace(/^[A-Z0-9_]+:\s*/, '').replace(/, \w+ '.*$/, '');
}
