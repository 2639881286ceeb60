/** Every `parley` command, in the order the help lists them. A new command is a module here and a line below. */
import type { CliCommand } from '../command';
import { block, blocks, unblock } from './blocks';
import { chat } from './chat';
import { contacts } from './contacts';
import { devices } from './devices';
import { link } from './link';
import { linkToken } from './link-token';
import { listen } from './listen';
import { lookup } from './lookup';
import { privacy } from './privacy';
import { register } from './register';
import { send } from './send';
import { sendFile } from './send-file';
import { verify } from './verify';
import { whoami } from './whoami';

export const commands: readonly CliCommand[] = [register, linkToken, link, whoami, devices, send, sendFile, listen, chat, verify, lookup, contacts, privacy, block, unblock, blocks];
