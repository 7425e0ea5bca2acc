/**
 * The inference API's routes (the Open Inference Protocol's HTTP/REST paths and Triton's
 * statistics, configuration and repository extensions), matched in order: the more
 * specific path first, so that `/v2/models/stats` is never taken for a model named "stats".
 */
import { ProtocolError } from './protocol-error.js';

export type RouteName =
  | 'live'
  | 'ready'
  | 'server'
  | 'all-stats'
  | 'model-stats'
  | 'model-ready'
  | 'model-config'
  | 'infer'
  | 'model'
  | 'repository-index'
  | 'repository-load'
  | 'repository-unload'
  | 'shm-status'
  | 'shm-register'
  | 'shm-unregister';

interface RouteSpec {
  readonly name: RouteName;
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  /** Health is for probes (a load balancer, Kubernetes): it tells nothing and needs no token. */
  readonly open?: boolean;
}

const MODEL = '/v2/models/([^/]+)(?:/versions/([^/]+))?';
const SHM = '/v2/systemsharedmemory(?:/region/([^/]+))?';

const ROUTES: readonly RouteSpec[] = [
  { name: 'live', method: 'GET', pattern: /^\/v2\/health\/live$/, open: true },
  { name: 'ready', method: 'GET', pattern: /^\/v2\/health\/ready$/, open: true },
  { name: 'server', method: 'GET', pattern: /^\/v2\/?$/ },
  { name: 'all-stats', method: 'GET', pattern: /^\/v2\/models\/stats$/ },
  { name: 'model-stats', method: 'GET', pattern: new RegExp(`^${MODEL}/stats$`) },
  { name: 'model-ready', method: 'GET', pattern: new RegExp(`^${MODEL}/ready$`) },
  { name: 'model-config', method: 'GET', pattern: new RegExp(`^${MODEL}/config$`) },
  { name: 'infer', method: 'POST', pattern: new RegExp(`^${MODEL}/infer$`) },
  { name: 'model', method: 'GET', pattern: new RegExp(`^${MODEL}$`) },
  { name: 'repository-index', method: 'POST', pattern: /^\/v2\/repository\/index$/ },
  { name: 'repository-load', method: 'POST', pattern: /^\/v2\/repository\/models\/([^/]+)\/load$/ },
  { name: 'repository-unload', method: 'POST', pattern: /^\/v2\/repository\/models\/([^/]+)\/unload$/ },
  // Triton's system shared memory: the region's name is in the model's place (group 1); absent means every region.
  { name: 'shm-status', method: 'GET', pattern: new RegExp(`^${SHM}/status$`) },
  { name: 'shm-register', method: 'POST', pattern: /^\/v2\/systemsharedmemory\/region\/([^/]+)\/register$/ },
  { name: 'shm-unregister', method: 'POST', pattern: new RegExp(`^${SHM}/unregister$`) },
];

export interface MatchedRoute {
  readonly name: RouteName;
  readonly open: boolean;
  /** The model's name, or the shared-memory region's on those routes. */
  readonly model: string | undefined;
  readonly version: number | undefined;
}

/** The route of a request, or a ProtocolError: not found (404), or the wrong method (405, with what it takes). */
export function matchRoute(method: string | undefined, path: string): MatchedRoute {
  let allowed: string | undefined;
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (method !== route.method) {
      allowed = route.method;
      continue;
    }
    return { name: route.name, open: route.open ?? false, model: decodeSegment(match[1]), version: versionOf(match[2]) };
  }
  if (allowed) throw new MethodNotAllowed(path, allowed);
  throw new ProtocolError('not_found', `no such endpoint: ${method ?? '?'} ${path}`);
}

export class MethodNotAllowed extends ProtocolError {
  constructor(
    path: string,
    readonly allow: string,
  ) {
    super('invalid', `${path} takes ${allow}`);
    this.name = 'MethodNotAllowed';
  }
}

function decodeSegment(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw new ProtocolError('invalid', 'the name in the path is not valid percent-encoding', undefined, { cause: error });
  }
}

function versionOf(segment: string | undefined): number | undefined {
  if (segment === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(segment)) throw new ProtocolError('invalid', `model version "${segment}" must be a positive integer`);
  return Number(segment);
}
