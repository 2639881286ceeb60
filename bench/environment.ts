/** The environment the handlers run with in the bench, set before any of them loads: errors still logged. */
import { useLocalProcessEnvironment } from '../local/process-environment';

useLocalProcessEnvironment('ERROR');
