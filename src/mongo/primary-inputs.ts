/** Inputs of the replica-set primary commands (primary-status, primary-move) of Mongo backup. */
import type { InputName, InputReader } from '../platform/inputs';
import { InputError } from '../shared/errors';
import { defineInputs } from '../shared/inputs';

const G_PRIMARY = 'primary';

/** Settings of primary-move. */
export interface PrimaryOptions {
  maxLagSeconds: number;
  stepDownSeconds: number;
  catchUpSeconds: number;
  electionTimeoutSeconds: number;
  allowForceReconfig: boolean;
}

/** The definitions (group `primary`). */
export const primaryInputs = defineInputs([
  {
    name: 'maxLagSeconds',
    label: 'Largest replication lag (seconds)',
    type: 'number',
    decimal: true,
    default: '10',
    group: G_PRIMARY,
    help: 'primary-move: refuse when the target member is further behind the primary (or, without a primary, the newest member) than this, before anything is changed.',
  },
  {
    name: 'stepDownSeconds',
    label: 'Step-down period (seconds)',
    type: 'number',
    default: '60',
    group: G_PRIMARY,
    help: 'primary-move: `replSetStepDown` seconds: the old primary cannot be re-elected for this long. Must exceed catchUpSeconds.',
  },
  {
    name: 'catchUpSeconds',
    label: 'Catch-up period (seconds)',
    type: 'number',
    default: '10',
    group: G_PRIMARY,
    help: 'primary-move: `secondaryCatchUpPeriodSecs`: how long the old primary waits for an electable secondary to catch up before stepping down (the step-down fails, and the priorities are put back, when none does).',
  },
  {
    name: 'electionTimeoutSeconds',
    label: 'Election wait (seconds)',
    type: 'number',
    default: '120',
    group: G_PRIMARY,
    help: 'primary-move: longest wait for the target to be primary with its first write majority-committed.',
  },
  {
    name: 'allowForceReconfig',
    label: 'Allow a forced reconfiguration (DATA-LOSS risk)',
    type: 'boolean',
    default: 'false',
    group: G_PRIMARY,
    help: 'primary-move when the replica set has NO primary (a majority of voting members is down, e.g. the other site is lost): run `replSetReconfig` with `force: true` on the target member, giving the unreachable members votes 0 and priority 0 so that the survivors can elect it. DATA-LOSS RISK: writes the old primary accepted that had not replicated to the survivors are rolled back when its members return (and are lost if they never do); a forced config can also split the set if the other site is only cut off, not down. Give the votes back with a normal reconfiguration once the site returns.',
  },
]);

/** The names of the primary-move inputs. */
export type PrimaryInputName = InputName<typeof primaryInputs>;

/** Parses the primary settings (their defaults apply to every command; only primary-move uses them). */
export function parsePrimaryOptions(read: InputReader<PrimaryInputName>): PrimaryOptions {
  const maxLagSeconds = read.number('maxLagSeconds', { min: 0, max: 86400 }) ?? 10;
  const stepDownSeconds = read.number('stepDownSeconds', { min: 1, max: 86400, integer: true }) ?? 60;
  const catchUpSeconds = read.number('catchUpSeconds', { min: 0, max: 86400, integer: true }) ?? 10;
  if (catchUpSeconds >= stepDownSeconds) throw new InputError('catchUpSeconds', `must be less than stepDownSeconds (${stepDownSeconds}): replSetStepDown refuses a step-down period that is not greater than secondaryCatchUpPeriodSecs`);
  const electionTimeoutSeconds = read.number('electionTimeoutSeconds', { min: 1, max: 3600, integer: true }) ?? 120;
  const allowForceReconfig = read.boolean('allowForceReconfig');
  return { maxLagSeconds, stepDownSeconds, catchUpSeconds, electionTimeoutSeconds, allowForceReconfig };
}
