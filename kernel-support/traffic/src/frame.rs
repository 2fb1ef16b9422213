//! Our test frames: the layout both directions write and check.

/// IEEE 802 local experimental ethertype: nothing else on the tap uses it.
pub const ETHERTYPE: u16 = 0x88b5;
pub const MAGIC: &[u8; 4] = b"vtvh";
const ETH_HLEN: usize = 14;
/// Our frames carry the ethernet header, MAGIC and a u32 sequence number.
pub const MIN_FRAME: usize = ETH_HLEN + 8;
/// Up to 64K: frames above 1514 need the tap's MTU raised (the peer does it) and buffer slots
/// that hold them whole (the driver sizes them from the largest frame of the run).
pub const MAX_FRAME: usize = 65535;
/// The largest standard Ethernet frame: runs that stay within it keep the tap's MTU.
pub const ETH_FRAME: usize = 1514;
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

/// Writes only the first [`MIN_FRAME`] bytes of frame `seq` (header, MAGIC, sequence number):
/// stream mode leaves the payload as it was, so a 64K frame costs no more to send than a small one.
pub fn fill_head(buf: &mut [u8], dst: &[u8; 6], seq: u32) {
    buf[..6].copy_from_slice(dst);
    buf[6..12].copy_from_slice(&SRC_MAC);
    buf[12..14].copy_from_slice(&ETHERTYPE.to_be_bytes());
    buf[14..18].copy_from_slice(MAGIC);
    buf[18..22].copy_from_slice(&seq.to_le_bytes());
}

/// The sequence number of one of our frames (its first bytes in `head`), if it is one.
pub fn our_seq(head: &[u8]) -> Option<usize> {
    (head.len() >= MIN_FRAME && head[12..14] == ETHERTYPE.to_be_bytes() && &head[14..18] == MAGIC)
        .then(|| u32::from_le_bytes(head[18..22].try_into().unwrap()) as usize)
}
