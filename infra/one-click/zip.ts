import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/**
 * A directory asset as the zip archive CloudFormation's consumers read (Lambda code, the playbook
 * the workers unzip), the way the CDK CLI publishes one: every file, deflated, with its mode.
 * Deterministic: files in name order, one fixed timestamp, so one content always gives one archive.
 * Format: https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT (no ZIP64: assets are small).
 */
export function zipDirectory(dir: string): Buffer {
  const files = listFiles(dir);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const relative of files) {
    const full = path.join(dir, relative);
    const data = fs.readFileSync(full);
    const mode = fs.statSync(full).mode & 0o777;
    const deflated = zlib.deflateRawSync(data, { level: 9 });
    const name = Buffer.from(relative.split(path.sep).join('/'), 'utf8');
    const crc = zlib.crc32(data);
    const header = (signature: number, size: number) => {
      const buffer = Buffer.alloc(size);
      buffer.writeUInt32LE(signature, 0);
      return buffer;
    };
    const local = header(0x04034b50, 30);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // names in UTF-8
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0, 10); // 00:00:00
    local.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(deflated.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, deflated);

    const central = header(0x02014b50, 46);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, 2.0: the external attributes hold the mode
    local.copy(central, 6, 4, 30); // version needed … name length, as in the local header
    central.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + deflated.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** 1980-01-01, the first day a zip's DOS date can hold. */
const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}
