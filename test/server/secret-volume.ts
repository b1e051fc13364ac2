import { lstat, mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let generation = 0;

/**
 * Writes files the way the kubelet updates a Secret or ConfigMap volume: a new timestamped
 * directory, a `..data` symlink renamed over the old one in one step, per-file symlinks into
 * `..data`, and the previous directory removed. Returns the timestamped directory.
 */
export async function writeSecretVolume(dir: string, files: Readonly<Record<string, string>>): Promise<string> {
  generation += 1;
  const dataDir = `..2026_11_26_09_00_00.${generation}`;
  await mkdir(join(dir, dataDir));
  for (const [name, contents] of Object.entries(files)) await writeFile(join(dir, dataDir, name), contents);
  const previous = await readlink(join(dir, '..data')).catch(() => undefined);
  await symlink(dataDir, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    const present = await lstat(join(dir, name)).then(
      () => true,
      () => false,
    );
    if (!present) await symlink(join('..data', name), join(dir, name));
  }
  if (previous !== undefined) await rm(join(dir, previous), { recursive: true });
  return dataDir;
}
