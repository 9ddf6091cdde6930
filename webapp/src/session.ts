// Where the API key lives: sessionStorage by default, localStorage when "remember me" was ticked.
const KEY = 'shortener.apiKey';

export const loadApiKey = (): string | null =>
  window.sessionStorage.getItem(KEY) ?? window.localStorage.getItem(KEY);

export const saveApiKey = (apiKey: string, remember: boolean) => {
  clearApiKey();
  (remember ? window.localStorage : window.sessionStorage).setItem(KEY, apiKey);
};

export const clearApiKey = () => {
  window.sessionStorage.removeItem(KEY);
  window.localStorage.removeItem(KEY);
};
