/** Every `parley` command, in the order the help lists them. A new command is a module here and a line below. */
import type { CliCommand } from '../command';
import { block, blocks, unblock } from './blocks';
import { chat } from './chat';
import { contacts } from './contacts';
import { deleteForEveryone } from './delete';
import { devices } from './devices';
import { disappearing } from './disappearing';
import { edit } from './edit';
import { link } from './link';
import { linkToken } from './link-token';
import { listen } from './listen';
import { lookup } from './lookup';
import { privacy } from './privacy';
import { react } from './react';
import { register } from './register';
import { reply } from './reply';
import { send } from './send';
import { sendFile } from './send-file';
import { verify } from './verify';
import { whoami } from './whoami';

export const commands: readonly CliCommand[] = [register, linkToken, link, whoami, devices, send, sendFile, reply, react, edit, deleteForEveryone, disappearing, listen, chat, verify, lookup, contacts, privacy, block, unblock, blocks];
