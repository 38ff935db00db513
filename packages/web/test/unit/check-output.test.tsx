// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckOutput, outputLines } from '../../src/pages/deployments/check-output';

afterEach(cleanup);

describe("a check run's output", () => {
  it('splits lines and carries a colour over to the next line', () => {
    const lines = outputLines('\x1b[31mred\nstill red\x1b[0m plain\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual([{ text: 'red', fg: 'red', bright: false, bold: false }]);
    expect(lines[1]).toEqual([
      { text: 'still red', fg: 'red', bright: false, bold: false },
      { text: ' plain', fg: null, bright: false, bold: false },
    ]);
  });

  it('is rendered only when opened, as text: markup stays text and escape codes become classes', () => {
    const output =
      'qa answers: bad-2 \x1b[1;31mboom\x1b[0m <img src=x onerror="window.hit=1">\nthis release is broken\n';
    const { container } = render(<CheckOutput output={output} label="Output of smoke, attempt 1 of 2" />);
    expect(screen.getByText('Output of smoke, attempt 1 of 2 (2 lines)')).toBeTruthy();
    expect(container.querySelector('pre')).toBeNull();
    const details = container.querySelector('details')!;
    details.open = true;
    fireEvent(details, new Event('toggle'));
    const pre = container.querySelector('pre')!;
    expect(pre.querySelector('img')).toBeNull();
    expect(pre.textContent).toBe(
      'qa answers: bad-2 boom <img src=x onerror="window.hit=1">\nthis release is broken\n',
    );
    const red = pre.querySelector('.ansi-red');
    expect(red?.textContent).toBe('boom');
    expect(red?.classList.contains('ansi-bold')).toBe(true);
  });

  it('says when a run wrote nothing', () => {
    render(<CheckOutput output={'  \n'} label="Output" />);
    expect(screen.getByText('No output.')).toBeTruthy();
  });
});
