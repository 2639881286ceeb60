// Quiet, offline defaults for every test process; a test may override them.
import { useLocalProcessEnvironment } from '../local/process-environment';

useLocalProcessEnvironment('SILENT');
// Unit tests build their own SDK clients, which need credentials to sign with.
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
