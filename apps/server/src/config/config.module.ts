import { Global, Module, type DynamicModule } from '@nestjs/common';
import { SERVER_OPTIONS, type ServerOptions } from './server-options';

/** Makes the ServerOptions injectable everywhere (SERVER_OPTIONS). */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(options: ServerOptions): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: SERVER_OPTIONS, useValue: options }], exports: [SERVER_OPTIONS] };
  }
}
