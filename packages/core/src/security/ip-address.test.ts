import { describe, expect, it } from 'vitest';
import { formatIp, inRange, parseIp, parseRange } from './ip-address.ts';

describe('parseIp / formatIp', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['::1', '::1'],
    ['::', '::'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['FD00:EC2::254', 'fd00:ec2::254'],
    ['0.0.0.0', '0.0.0.0'],
  ])('%s is %s', (text, shown) => {
    expect(formatIp(parseIp(text)!)).toBe(shown);
  });

  it.each(['256.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', 'localhost', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', '1.2.3.4::', ''])(
    '%s is not an address',
    (text) => {
      expect(parseIp(text)).toBeNull();
    },
  );
});

describe('parseRange / inRange', () => {
  it.each([
    ['169.254.0.0/16', '169.254.169.254', true],
    ['169.254.0.0/16', '::ffff:169.254.169.254', true],
    ['169.254.0.0/16', '169.255.0.1', false],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
    ['10.0.0.0/8', '10.255.255.255', true],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['0.0.0.0/0', '::1', false],
    ['::/0', '::1', true],
    ['10.1.2.3', '10.1.2.3', true],
    ['10.1.2.3', '10.1.2.4', false],
    ['10.1.2.3/31', '10.1.2.2', true],
  ])('%s contains %s: %s', (range, ip, expected) => {
    expect(inRange(parseIp(ip)!, parseRange(range)!)).toBe(expected);
  });

  it.each(['10.0.0.0/33', '::/129', 'x/8', '10.0.0.0/', '10.0.0.0/-1'])('%s is not a range', (text) => {
    expect(parseRange(text)).toBeNull();
  });
});
