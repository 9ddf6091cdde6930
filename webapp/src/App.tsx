import { FontAwesomeIcon } from '@fortawesome/react-fontawesome';
import { faMoon, faRightFromBracket, faSun } from '@fortawesome/free-solid-svg-icons';
import type { Theme } from '@shlinkio/shlink-frontend-kit';
import { Button, changeThemeInMarkup, Checkbox, getSystemPreferredTheme, Input, Label, SimpleCard } from '@shlinkio/shlink-frontend-kit';
import type { TagColorsStorage } from '@shlinkio/shlink-web-component';
import { ShlinkWebComponent } from '@shlinkio/shlink-web-component';
import type { Settings } from '@shlinkio/shlink-web-component/settings';
import { clsx } from 'clsx';
import type { FormEvent } from 'react';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { HashRouter } from 'react-router';
import { createApiClient, describeError, serverUrl } from './api';
import { clearApiKey, loadApiKey, saveApiKey } from './session';

/**
 * Version announced to the web component. It only gates optional UI features (see README):
 * 4.4.0 enables IP/geolocation redirect conditions and the domain filter in the short URL list,
 * and keeps 4.5+/4.6+ extras (advanced query conditions, desktop device types, excluded-tags filter,
 * visits-by-domain filter) off.
 */
const SERVER_VERSION = '4.4.0';

const settings: Settings = {
  // No Mercure hub on this server: with this off, the component never calls mercureInfo().
  realTimeUpdates: { enabled: false },
};

const THEME_KEY = 'shortener.theme';
const TAG_COLORS_KEY = 'shortener.tagColors';

const tagColorsStorage: TagColorsStorage = {
  getTagColors: () => {
    try {
      return JSON.parse(window.localStorage.getItem(TAG_COLORS_KEY) ?? '{}');
    } catch {
      return {};
    }
  },
  storeTagColors: (colors) => window.localStorage.setItem(TAG_COLORS_KEY, JSON.stringify(colors)),
};

const useTheme = () => {
  const [theme, setTheme] = useState<Theme>(
    () => (window.localStorage.getItem(THEME_KEY) as Theme | null) ?? getSystemPreferredTheme(),
  );
  useEffect(() => {
    changeThemeInMarkup(theme);
    window.localStorage.setItem(THEME_KEY, theme);
  }, [theme]);
  const toggleTheme = useCallback(() => setTheme((t) => (t === 'dark' ? 'light' : 'dark')), []);
  return { theme, toggleTheme };
};

type ThemeProps = { theme: Theme; toggleTheme: () => void };

const ThemeButton = ({ theme, toggleTheme }: ThemeProps) => (
  <button
    type="button"
    onClick={toggleTheme}
    className="text-white opacity-80 hover:opacity-100 cursor-pointer px-2"
    aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
    title={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
    data-testid="theme-toggle"
  >
    <FontAwesomeIcon icon={theme === 'dark' ? faSun : faMoon} />
  </button>
);

const Header = ({ onLogout, ...themeProps }: ThemeProps & { onLogout?: () => void }) => (
  <header
    className={clsx(
      'fixed top-0 inset-x-0 z-900 h-(--header-height) px-4',
      'bg-lm-main dark:bg-dm-main text-white flex items-center gap-3',
      // leave room for the web component's own sidebar toggle (fixed, top-left, small screens only)
      onLogout && 'max-md:pl-14',
    )}
  >
    <span className="font-bold text-lg">Shortener</span>
    <span className="opacity-75 text-sm truncate max-sm:hidden" data-testid="server-url">{serverUrl()}</span>
    <span className="grow" />
    <ThemeButton {...themeProps} />
    {onLogout && (
      <button
        type="button"
        onClick={onLogout}
        className="flex items-center gap-2 border border-white/60 rounded-md px-3 py-1 text-sm hover:bg-white/10 cursor-pointer"
        data-testid="logout-button"
      >
        <FontAwesomeIcon icon={faRightFromBracket} /> Log out
      </button>
    )}
  </header>
);

type LoginProps = {
  initialKey: string;
  initialError?: string;
  onLoggedIn: (apiKey: string) => void;
};

const Login = ({ initialKey, initialError, onLoggedIn }: LoginProps) => {
  const [apiKey, setApiKey] = useState(initialKey);
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState(initialError);
  const [checking, setChecking] = useState(false);

  const submit = useCallback(async (e: FormEvent) => {
    e.preventDefault();
    const key = apiKey.trim();
    if (!key) {
      setError('Enter an API key.');
      return;
    }
    setChecking(true);
    setError(undefined);
    try {
      // Any authenticated call validates the key: a 401 (invalid/missing key) is shown below.
      await createApiClient(key).listShortUrls({ itemsPerPage: 1 });
      saveApiKey(key, remember);
      onLoggedIn(key);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setChecking(false);
    }
  }, [apiKey, remember, onLoggedIn]);

  return (
    <main className="pt-[calc(var(--header-height)+3rem)] px-3 flex justify-center">
      <SimpleCard title="Log in" className="w-full max-w-md">
        <form onSubmit={submit} className="flex flex-col gap-4" data-testid="login-form">
          <p>
            Server: <b data-testid="login-server-url">{serverUrl()}</b>
          </p>
          <div className="flex flex-col gap-1">
            <Label htmlFor="api-key">API key</Label>
            <Input
              id="api-key"
              name="apiKey"
              type="password"
              autoComplete="current-password"
              value={apiKey}
              onChange={(e) => setApiKey(e.target.value)}
              feedback={error ? 'error' : undefined}
              data-testid="api-key-input"
              autoFocus
            />
          </div>
          <label className="flex items-center gap-2 cursor-pointer">
            <Checkbox checked={remember} onChange={setRemember} data-testid="remember-checkbox" />
            Remember on this device
          </label>
          {error && (
            <div
              role="alert"
              data-testid="login-error"
              className="rounded-md border border-danger text-danger px-3 py-2 text-sm"
            >
              {error}
            </div>
          )}
          <Button type="submit" solid disabled={checking} data-testid="login-button">
            {checking ? 'Checking…' : 'Log in'}
          </Button>
        </form>
      </SimpleCard>
    </main>
  );
};

type AuthState =
  | { status: 'checking'; apiKey: string }
  | { status: 'loggedIn'; apiKey: string }
  | { status: 'loggedOut'; apiKey?: string; error?: string };

export const App = () => {
  const themeProps = useTheme();
  const [auth, setAuth] = useState<AuthState>(() => {
    const apiKey = loadApiKey();
    return apiKey ? { status: 'checking', apiKey } : { status: 'loggedOut' };
  });

  const logout = useCallback((error?: string) => {
    clearApiKey();
    setAuth({ status: 'loggedOut', error });
  }, []);

  // Re-validate a stored key once on start-up.
  useEffect(() => {
    if (auth.status !== 'checking') {
      return;
    }
    createApiClient(auth.apiKey).listShortUrls({ itemsPerPage: 1 })
      .then(() => setAuth({ status: 'loggedIn', apiKey: auth.apiKey }))
      .catch((err) => {
        const status = (err as { status?: number })?.status;
        if (status === 401 || status === 403) {
          clearApiKey();
          setAuth({ status: 'loggedOut', error: describeError(err) });
        } else {
          setAuth({ status: 'loggedOut', apiKey: auth.apiKey, error: describeError(err) });
        }
      });
  }, [auth]);

  const apiKey = auth.status === 'loggedIn' ? auth.apiKey : undefined;
  const apiClient = useMemo(
    () => apiKey ? createApiClient(apiKey, (err) => logout(describeError(err))) : undefined,
    [apiKey, logout],
  );

  if (auth.status === 'checking') {
    return (
      <>
        <Header {...themeProps} />
        <main className="pt-[calc(var(--header-height)+3rem)] text-center" data-testid="checking">Checking API key…</main>
      </>
    );
  }

  if (auth.status === 'loggedOut' || !apiClient) {
    return (
      <>
        <Header {...themeProps} />
        <Login
          initialKey={auth.status === 'loggedOut' ? auth.apiKey ?? '' : ''}
          initialError={auth.status === 'loggedOut' ? auth.error : undefined}
          onLoggedIn={(key) => setAuth({ status: 'loggedIn', apiKey: key })}
        />
      </>
    );
  }

  return (
    <HashRouter>
      <Header {...themeProps} onLogout={() => logout()} />
      <div className="pt-(--header-height) h-full">
        <ShlinkWebComponent
          serverVersion={SERVER_VERSION}
          apiClient={apiClient}
          settings={settings}
          tagColorsStorage={tagColorsStorage}
          routesPrefix=""
        />
      </div>
    </HashRouter>
  );
};
