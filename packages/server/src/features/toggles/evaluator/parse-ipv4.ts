/** An IPv4 address or network as ip-address's `Address4` reads it. */
export type IPv4 = { value: number; subnetMask: number; correctForm: string };

const SUBNET = /\/\d{1,2}$/;
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const ADDRESS = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const LEADING_ZERO = /(^|\.)0\d/;

/**
 * Accepts exactly what `new Address4(text)` of ip-address 10 (the version unleash-client uses)
 * accepts, without its bigint and bit-string work: parsing showed up as the evaluator's cost.
 */
export function parseIPv4(text: string): IPv4 | null {
  let address = text;
  let subnetMask = 32;
  const subnet = SUBNET.exec(text);
  if (subnet) {
    subnetMask = Number.parseInt(subnet[0].slice(1), 10);
    if (subnetMask > 32) return null;
    address = text.slice(0, subnet.index);
  }
  if (address.length > 15 || LEADING_ZERO.test(address)) return null;
  const octets = ADDRESS.exec(address);
  if (!octets) return null;
  const value =
    ((Number(octets[1]) << 24) | (Number(octets[2]) << 16) | (Number(octets[3]) << 8) | Number(octets[4])) >>>
    0;
  return { value, subnetMask, correctForm: address };
}

/** ip-address's `isInSubnet`: the network is no narrower than the address's own, and the network bits agree. */
export function ipv4InSubnet(address: IPv4, network: IPv4): boolean {
  if (address.subnetMask < network.subnetMask) return false;
  if (network.subnetMask === 0) return true;
  const shift = 32 - network.subnetMask;
  return address.value >>> shift === network.value >>> shift;
}
