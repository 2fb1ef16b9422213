//! Our test frames: the layout both directions write and check.

/// IEEE 802 local experimental ethertype: nothing else on the tap uses it.
pub const ETHERTYPE: u16 = 0x88b5;
pub const MAGIC: &[u8; 4] = b"vtvh";
const ETH_HLEN: usize = 14;
/// Our frames carry the ethernet header, MAGIC and a u32 sequence number.
pub const MIN_FRAME: usize = ETH_HLEN + 8;
pub const MAX_FRAME: usize = 1514;
const SRC_MAC: [u8; 6] = [0x02, 0x76, 0x74, 0x00, 0x00, 0x01];

/// Writes frame `seq` of `len` bytes to `dst` into `buf`: the header, MAGIC,
/// the sequence number, then a payload that differs from frame to frame.
pub fn fill(buf: &mut [u8], dst: &[u8; 6], len: usize, seq: u32) {
    buf[..6].copy_from_slice(dst);
    buf[6..12].copy_from_slice(&SRC_MAC);
    buf[12..14].copy_from_slice(&ETHERTYPE.to_be_bytes());
    buf[14..18].copy_from_slice(MAGIC);
    buf[18..22].copy_from_slice(&seq.to_le_bytes());
    for (i, b) in buf[22..len].iter_mut().enumerate() {
        *b = (i as u8).wrapping_add(seq as u8);
    }
}
