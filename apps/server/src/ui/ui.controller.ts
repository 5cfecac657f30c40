import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';

/**
 * The page may load only itself, the bundled uPlot and its own API (no CDN, no
 * inline script, no framing): a key typed into it can only go back to this server.
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The page's files: apps/server/src/ui/static in the sources. The build (tsc)
 * does not copy them, so from dist/apps/server/src/ui they are read in the
 * sources at the package root (the Dockerfile copies them there too).
 */
function staticDir(): string {
  const beside = join(__dirname, 'static');
  if (existsSync(join(beside, 'live.html'))) return beside;
  return join(__dirname, '..', '..', '..', '..', '..', 'apps', 'server', 'src', 'ui', 'static');
}

const read = (path: string): string => readFileSync(path, 'utf8');

/** Read once, at start: the files are part of the build, not data. */
const ASSETS = (() => {
  const dir = staticDir();
  return {
    html: read(join(dir, 'live.html')),
    js: read(join(dir, 'live.js')),
    css: read(join(dir, 'live.css')),
    uplotJs: read(require.resolve('uplot/dist/uPlot.iife.min.js')),
    uplotCss: read(require.resolve('uplot/dist/uPlot.min.css')),
  };
})();

/**
 * The live monitoring page (docs/live.md): static, public content — every
 * data call it makes goes through the guarded API with the key the user types
 * in. Served by a controller (not express.static) so it works on any Nest
 * HTTP platform; left out of the OpenAPI document (it is not an API).
 */
@ApiExcludeController()
@Public()
@Controller('ui')
export class UiController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CONTENT_SECURITY_POLICY)
  @Header('cache-control', 'no-cache')
  page(): string {
    return ASSETS.html;
  }

  @Get('live.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  script(): string {
    return ASSETS.js;
  }

  @Get('live.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'no-cache')
  style(): string {
    return ASSETS.css;
  }

  @Get('uPlot.iife.min.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=86400')
  uplotScript(): string {
    return ASSETS.uplotJs;
  }

  @Get('uPlot.min.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=86400')
  uplotStyle(): string {
    return ASSETS.uplotCss;
  }
}
