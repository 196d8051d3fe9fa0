/** The barrel the worker bundles: every workflow type NPanel runs. */
export { waitForTimer } from './wait-for-timer';
