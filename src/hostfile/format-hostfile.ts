import type { AgentEndpoint } from './agent-endpoint.js';

/**
 * Render endpoints as hostfile text (tab-separated, one per line, tags last),
 * the inverse of `parseHostfileText`.
 */
export function formatHostfile(endpoints: readonly AgentEndpoint[]): string {
  return endpoints
    .map((endpoint) => {
      const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
      const tags = Object.entries(endpoint.tags).map(([key, value]) => `\t${key}=${value}`);
      return `${host}\t${endpoint.port}${tags.join('')}\n`;
    })
    .join('');
}
