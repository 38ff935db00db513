import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, createQueryClient } from './app';
import { statusQuery } from './pages/board/board-page';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('no #root element in index.html');
const client = createQueryClient();
// The board's data is asked for beside the session, not after it: one round trip less on a first
// load. Not signed in, it fails (401) and the board asks again once it is shown.
if (window.location.pathname === '/') void client.prefetchQuery({ ...statusQuery, retry: false });
createRoot(root).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
);
