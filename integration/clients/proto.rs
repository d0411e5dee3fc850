//! Just enough protobuf for the CRI calls the tier makes: a message writer (fields by number,
//! as the CRI's api.proto numbers them) and a reader of the few response fields it needs.
//! The gRPC transport is python3-grpcio's, given raw bytes (see `cri::call`).

/// A message being written.
#[derive(Clone, Default)]
pub struct Msg(pub Vec<u8>);

const VARINT: u64 = 0;
const LEN: u64 = 2;

impl Msg {
    pub fn new() -> Msg {
        Msg::default()
    }

    fn key(&mut self, field: u64, wire: u64) {
        put_varint(&mut self.0, (field << 3) | wire);
    }

    pub fn varint(mut self, field: u64, value: u64) -> Msg {
        self.key(field, VARINT);
        put_varint(&mut self.0, value);
        self
    }

    pub fn bytes(mut self, field: u64, value: &[u8]) -> Msg {
        self.key(field, LEN);
        put_varint(&mut self.0, value.len() as u64);
        self.0.extend_from_slice(value);
        self
    }

    pub fn str(self, field: u64, value: &str) -> Msg {
        self.bytes(field, value.as_bytes())
    }

    pub fn msg(self, field: u64, value: Msg) -> Msg {
        self.bytes(field, &value.0)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A received message's fields: (number, varint value or bytes).
pub struct Fields(Vec<(u64, Field)>);

pub enum Field {
    Varint(u64),
    Bytes(Vec<u8>),
}

impl Fields {
    pub fn parse(mut buf: &[u8]) -> Fields {
        let mut fields = Vec::new();
        while !buf.is_empty() {
            let key = take_varint(&mut buf);
            let value = match key & 7 {
                VARINT => Field::Varint(take_varint(&mut buf)),
                LEN => {
                    let n = take_varint(&mut buf) as usize;
                    let (v, rest) = buf.split_at(n);
                    buf = rest;
                    Field::Bytes(v.to_vec())
                }
                1 => Field::Bytes(take(&mut buf, 8)),
                5 => Field::Bytes(take(&mut buf, 4)),
                wire => panic!("protobuf wire type {wire}"),
            };
            fields.push((key >> 3, value));
        }
        Fields(fields)
    }

    pub fn bytes(&self, field: u64) -> Vec<u8> {
        self.0
            .iter()
            .find_map(|(n, v)| match v {
                Field::Bytes(b) if *n == field => Some(b.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    pub fn string(&self, field: u64) -> String {
        String::from_utf8_lossy(&self.bytes(field)).into_owned()
    }

    pub fn varint(&self, field: u64) -> u64 {
        self.0
            .iter()
            .find_map(|(n, v)| match v {
                Field::Varint(x) if *n == field => Some(*x),
                _ => None,
            })
            .unwrap_or(0)
    }

    pub fn msg(&self, field: u64) -> Fields {
        Fields::parse(&self.bytes(field))
    }
}

fn take_varint(buf: &mut &[u8]) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = buf[0];
        *buf = &buf[1..];
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
    }
    v
}

fn take(buf: &mut &[u8], n: usize) -> Vec<u8> {
    let (v, rest) = buf.split_at(n);
    *buf = rest;
    v.to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Vec<u8> {
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}
