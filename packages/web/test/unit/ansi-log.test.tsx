// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BuildLog } from '../../src/pages/builds/build-log';

/** fetch answering a text body in the given chunks, as the log route streams it. */
function serveLog(chunks: string[]) {
  const encoder = new TextEncoder();
  const fetchMock = vi.fn(async () => ({
    ok: true,
    status: 200,
    body: new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(encoder.encode(chunk));
        c.close();
      },
    }),
  }));
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('the build log on the page', () => {
  it('reads a finished build once (no follow), renders colours as spans and markup as text', async () => {
    const fetchMock = serveLog([
      '==> test\n\x1b[31m<img src=x onerror="window.hit=1">\x1b[0m ok\n',
      '\x1b]8;;https://x.test\x07link\x1b]8;;\x07\n',
    ]);
    const { container } = render(<BuildLog buildId="bld_1" running={false} />);
    await screen.findByText('3 lines.');
    expect(fetchMock).toHaveBeenCalledWith('/api/builds/bld_1/logs', expect.anything());
    const log = screen.getByRole('log', { name: 'Build log' });
    expect(log.querySelector('img')).toBeNull();
    expect(log.querySelector('.ansi-red')?.textContent).toBe('<img src=x onerror="window.hit=1">');
    expect(log.querySelector('.log-step')?.textContent).toBe('==> test');
    expect(log.textContent).toContain('link');
    expect(log.textContent).not.toContain('https://x.test');
    expect(container.querySelector('a[download]')?.getAttribute('href')).toBe('/api/builds/bld_1/logs');
  });

  it('follows a running build and keeps at most its cap of lines on the page, with a notice', async () => {
    const cap = 600;
    const total = 2500;
    const lines = Array.from({ length: total }, (_, i) => `line ${i + 1}`);
    const fetchMock = serveLog([lines.slice(0, 1000).join('\n'), `\n${lines.slice(1000).join('\n')}\n`]);
    render(<BuildLog buildId="bld_2" running={true} maxLines={cap} />);
    await screen.findByText(`${total.toLocaleString()} lines.`);
    expect(fetchMock).toHaveBeenCalledWith('/api/builds/bld_2/logs?follow=true', expect.anything());
    const shown = screen.getByRole('log').querySelectorAll('.log-line');
    expect(shown.length).toBeLessThanOrEqual(cap);
    expect(shown[shown.length - 1]?.textContent).toBe(`line ${total}`);
    expect(screen.getByText(/lines are not shown here/).textContent).toContain(
      `first ${(total - shown.length).toLocaleString()} lines`,
    );
  });

  it('searches in any case, counts, and moves between matches', async () => {
    serveLog(['a needle\nnothing\nNEEDLE and needle\n']);
    render(<BuildLog buildId="bld_3" running={false} />);
    await screen.findByText('3 lines.');
    const box = screen.getByRole('searchbox', { name: 'Search the log' });
    await act(async () => {
      fireEvent.change(box, { target: { value: 'needle' } });
    });
    const count = screen.getByTestId('log-match-count');
    expect(count.textContent).toBe('1 of 3');
    expect(screen.getByRole('log').querySelectorAll('mark')).toHaveLength(3);
    fireEvent.click(screen.getByRole('button', { name: 'Previous match' }));
    await waitFor(() => expect(count.textContent).toBe('3 of 3'));
    expect(screen.getByRole('log').querySelector('mark.current')?.textContent).toBe('needle');
    expect(screen.getByRole('button', { name: 'Follow' }).getAttribute('aria-pressed')).toBe('false');
    await act(async () => {
      fireEvent.change(box, { target: { value: 'absent' } });
    });
    expect(count.textContent).toBe('no match');
  });
});
