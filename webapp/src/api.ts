import { ShlinkApiClient } from '@shlinkio/shlink-js-sdk';
import { FetchHttpClient } from '@shlinkio/shlink-js-sdk/fetch';

/** The Shlink-compatible REST API is served by the same origin, under /rest/v3 (the SDK appends "/rest/v3"). */
export const serverUrl = (): string => window.location.origin;

export type ApiError = { status?: number; title?: string; detail?: string; type?: string };

/**
 * A fetch wrapper for the SDK's FetchHttpClient:
 * - the SDK does `await response.json()` on every error response, so an error with an empty or non-JSON body
 *   would surface as a JSON SyntaxError and lose its status. Here such a body is replaced by a
 *   problem-details JSON body carrying the real status.
 * - a 401 from any call on this origin is reported through onUnauthorized (the key was revoked or is wrong).
 */
const createFetch = (onUnauthorized?: (error: ApiError) => void): typeof fetch => async (input, init) => {
  const response = await window.fetch(input, init);
  if (response.ok) {
    return response;
  }

  const text = await response.text();
  let body: ApiError;
  try {
    const parsed = JSON.parse(text);
    body = typeof parsed === 'object' && parsed !== null ? parsed : { detail: String(parsed) };
  } catch {
    body = { detail: text.trim().slice(0, 300) || response.statusText };
  }
  body = {
    type: 'about:blank',
    title: response.statusText || `HTTP ${response.status}`,
    ...body,
    status: typeof body.status === 'number' ? body.status : response.status,
  };

  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (response.status === 401 && url.startsWith(serverUrl())) {
    onUnauthorized?.(body);
  }

  return new Response(JSON.stringify(body), {
    status: response.status,
    statusText: response.statusText,
    headers: { 'Content-Type': 'application/problem+json' },
  });
};

export const createApiClient = (apiKey: string, onUnauthorized?: (error: ApiError) => void) =>
  new ShlinkApiClient(new FetchHttpClient(createFetch(onUnauthorized)), { baseUrl: serverUrl(), apiKey });

export const describeError = (e: unknown): string => {
  if (e && typeof e === 'object' && ('status' in e || 'detail' in e || 'title' in e)) {
    const { status, title, detail } = e as ApiError;
    if (status === 401 || status === 403) {
      return `The server rejected this API key (HTTP ${status}${detail ? `: ${detail}` : ''}).`;
    }
    return [status && `HTTP ${status}`, title, detail].filter(Boolean).join(' – ');
  }
  if (e instanceof Error) {
    return `Could not reach the server: ${e.message}`;
  }
  return 'Unknown error';
};
