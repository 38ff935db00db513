import { Address4 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import { ipv4InSubnet, parseIPv4 } from '../../../src/features/toggles/evaluator/parse-ipv4.js';

const samples = [
  '127.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '256.1.1.1',
  '1.2.3',
  '1.2.3.4.5',
  '01.2.3.4',
  '1.02.3.4',
  '1.2.3.0',
  '10.0.0.0/8',
  '10.0.0.0/08',
  '10.1.2.3/0',
  '10.1.2.3/32',
  '10.1.2.3/33',
  '10.1.2.3/100',
  '10.1.2.3/',
  '/8',
  '',
  ' 1.2.3.4',
  '1.2.3.4 ',
  '1.2.3.4\n',
  '1.2.3.x',
  '::1',
  '2001:db8::1',
  '192.168.1.1/24',
  '192.168.1.255/31',
  '1.1.1.1/1',
  '128.0.0.0/1',
  '172.16.0.0/12',
  '172.31.255.255',
  '172.32.0.0',
  '999.999.999.999',
  '1..2.3',
];

describe('parseIPv4 agrees with ip-address Address4', () => {
  it('on validity and correctForm', () => {
    for (const text of samples) {
      const ours = parseIPv4(text);
      expect(ours !== null, text).toBe(Address4.isValid(text));
      if (ours) expect(ours.correctForm, text).toBe(new Address4(text).correctForm());
    }
  });

  it('on isInSubnet for every pair', () => {
    const valid = samples.filter((s) => Address4.isValid(s));
    for (const a of valid) {
      for (const b of valid) {
        const expected = new Address4(a).isInSubnet(new Address4(b));
        expect(ipv4InSubnet(parseIPv4(a)!, parseIPv4(b)!), `${a} in ${b}`).toBe(expected);
      }
    }
  });
});
