/** Switchboard's version, as package.json has it (a unit test keeps the two the same): servers report it. */
export const SWITCHBOARD_VERSION = '0.1.0';
