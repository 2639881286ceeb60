/** The names the person gave contacts in `parley chat` (/new <user> <name>, /name): a JSON file in the store's folder. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class ContactNames {
  private constructor(
    private readonly file: string,
    private readonly names: Record<string, string>,
  ) {}

  static async load(storeDirectory: string): Promise<ContactNames> {
    const file = path.join(storeDirectory, 'contact-names.json');
    const names = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, string>;
    return new ContactNames(file, names);
  }

  /** The name given to `userId`, else the first 8 characters of its id. */
  nameOf(userId: string): string {
    return this.names[userId] ?? userId.slice(0, 8);
  }

  async set(userId: string, name: string): Promise<void> {
    this.names[userId] = name;
    await writeFile(this.file, JSON.stringify(this.names, null, 2), { mode: 0o600 });
  }
}
