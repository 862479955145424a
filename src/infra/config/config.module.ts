import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AppConfig } from './config';

/** Entrypoints parse the environment before Nest boots (so bad config fails fast
 *  with a plain message) and hand the result in here. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}
