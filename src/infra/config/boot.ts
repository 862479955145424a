import { AppConfig, ConfigError, loadEnv } from './config';

/** Parses the environment for an entrypoint; on bad config prints which variable
 *  is wrong and exits 1 before anything else starts. */
export function configOrExit(): AppConfig {
  try {
    return new AppConfig(loadEnv());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
