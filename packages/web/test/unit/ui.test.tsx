// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { ago, Dialog, formatMs, ShortSha, StatusBadge } from '../../src/components/ui';

afterEach(cleanup);

describe('formatting', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  it('says how long ago, in the largest whole unit', () => {
    expect(ago('2026-12-03T11:59:30Z', now)).toBe('30s ago');
    expect(ago('2026-12-03T11:15:00Z', now)).toBe('45m ago');
    expect(ago('2026-12-03T07:00:00Z', now)).toBe('5h ago');
    expect(ago('2026-11-30T12:00:00Z', now)).toBe('3d ago');
    expect(ago('2026-12-03T12:05:00Z', now)).toBe('in 5m');
    expect(ago('2026-12-05T12:00:00Z', now)).toBe('in 2d');
    expect(ago(null, now)).toBe('');
    expect(ago('not a date', now)).toBe('');
  });
  it('writes durations for people', () => {
    expect(formatMs(42.4)).toBe('42 ms');
    expect(formatMs(1_500)).toBe('1.5 s');
    expect(formatMs(125_000)).toBe('2 min 5 s');
    expect(formatMs(null)).toBe('—');
  });
});

describe('components', () => {
  it('a status badge always writes its word; colour is never the only signal', () => {
    render(<StatusBadge status="failed" />);
    const badge = screen.getByText('failed');
    expect(badge.className).toContain('bad');
  });

  it('a short SHA shows 8 characters and keeps the whole SHA for hover', () => {
    render(<ShortSha sha="0123456789abcdef0123456789abcdef01234567" />);
    const el = screen.getByText('01234567');
    expect(el.getAttribute('title')).toBe('0123456789abcdef0123456789abcdef01234567');
  });

  it('a dialog is labelled by its title and renders its body only while open', () => {
    function Harness() {
      const [open, setOpen] = useState(false);
      return (
        <>
          <button type="button" onClick={() => setOpen(true)}>
            open
          </button>
          <Dialog open={open} onClose={() => setOpen(false)} title="Promote to staging">
            <p>3 commits will go out</p>
            <button type="button" onClick={() => setOpen(false)}>
              cancel
            </button>
          </Dialog>
        </>
      );
    }
    render(<Harness />);
    expect(screen.queryByText('3 commits will go out')).toBeNull();
    fireEvent.click(screen.getByText('open'));
    const dialog = screen.getByText('3 commits will go out').closest('dialog');
    expect(dialog?.getAttribute('aria-labelledby')).toBe('dlg-promote-to-staging');
    expect(document.getElementById('dlg-promote-to-staging')?.textContent).toBe('Promote to staging');
    fireEvent.click(screen.getByText('cancel'));
    expect(screen.queryByText('3 commits will go out')).toBeNull();
  });
});
