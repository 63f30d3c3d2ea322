/** An environment to read settings from: process.env, or a test's own. */
export type Env = Readonly<Record<string, string | undefined>>;
