import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { session } from './api/client';
import { App } from './App';
import { startI18n } from './i18n';
import { ApiError } from './lib/problem';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not change on retry; a network blip or 5xx may.
      retry: (count, error) =>
        count < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      refetchOnWindowFocus: true,
      staleTime: 15_000,
    },
  },
});

// A new session (another user on this browser) must not see the last one's cached data.
session.subscribe(() => {
  if (session.getState().status !== 'signed-in') queryClient.clear();
});

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');

void startI18n(navigator.languages.length > 0 ? navigator.languages : [navigator.language]).then(
  () => {
    createRoot(root).render(
      <StrictMode>
        <QueryClientProvider client={queryClient}>
          <BrowserRouter>
            <App />
          </BrowserRouter>
        </QueryClientProvider>
      </StrictMode>,
    );
    void session.start();
  },
);
