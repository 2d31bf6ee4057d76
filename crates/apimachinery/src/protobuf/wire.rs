//! Protobuf wire format reading: varints, length-delimited fields, fixed32/fixed64.

use super::ProtobufError;

/// Protobuf wire types (groups, 3 and 4, are not used by Kubernetes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    Len,
    Fixed32,
}

/// One field value as read from the wire.
#[derive(Debug, Clone, Copy)]
pub enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    /// Kubernetes messages have no fixed32 fields; the value is skipped.
    Fixed32,
}

impl WireValue<'_> {
    pub fn wire_type(&self) -> WireType {
        match self {
            WireValue::Varint(_) => WireType::Varint,
            WireValue::Fixed64(_) => WireType::Fixed64,
            WireValue::Len(_) => WireType::Len,
            WireValue::Fixed32 => WireType::Fixed32,
        }
    }
}

/// Sequential reader over one message's bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn read_varint(&mut self) -> Result<u64, ProtobufError> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(ProtobufError::Truncated("varint"));
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtobufError::Invalid("varint longer than 10 bytes".into()))
    }

    pub fn read_fixed64(&mut self) -> Result<u64, ProtobufError> {
        let b = self.take(8, "fixed64")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtobufError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(ProtobufError::Truncated(what))?;
        let slice = self
            .buf
            .get(self.pos..end)
            .ok_or(ProtobufError::Truncated(what))?;
        self.pos = end;
        Ok(slice)
    }

    /// Reads the next field: its tag number and value.
    pub fn read_field(&mut self) -> Result<(u32, WireValue<'a>), ProtobufError> {
        let key = self.read_varint()?;
        let tag = u32::try_from(key >> 3)
            .ok()
            .filter(|t| *t > 0)
            .ok_or_else(|| ProtobufError::Invalid(format!("invalid field number in key {key}")))?;
        let value = match key & 7 {
            0 => WireValue::Varint(self.read_varint()?),
            1 => WireValue::Fixed64(self.read_fixed64()?),
            2 => {
                let len = usize::try_from(self.read_varint()?)
                    .map_err(|_| ProtobufError::Truncated("length-delimited field"))?;
                WireValue::Len(self.take(len, "length-delimited field")?)
            }
            5 => {
                self.take(4, "fixed32")?;
                WireValue::Fixed32
            }
            other => {
                return Err(ProtobufError::Invalid(format!(
                    "unsupported wire type {other} for field {tag}"
                )));
            }
        };
        Ok((tag, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_multibyte_varint_and_fields() {
        // field 1 varint 300, field 2 bytes "hi", field 3 fixed64 1.5
        let mut buf = vec![0x08, 0xac, 0x02, 0x12, 0x02, b'h', b'i', 0x19];
        buf.extend_from_slice(&1.5f64.to_bits().to_le_bytes());
        let mut r = Reader::new(&buf);
        assert!(matches!(
            r.read_field().unwrap(),
            (1, WireValue::Varint(300))
        ));
        assert!(matches!(
            r.read_field().unwrap(),
            (2, WireValue::Len(b"hi"))
        ));
        match r.read_field().unwrap() {
            (3, WireValue::Fixed64(bits)) => assert_eq!(f64::from_bits(bits), 1.5),
            other => panic!("unexpected {other:?}"),
        }
        assert!(r.is_empty());
    }

    #[test]
    fn truncated_length_is_an_error() {
        let buf = [0x12, 0x05, b'a'];
        let err = Reader::new(&buf).read_field().unwrap_err();
        assert!(matches!(err, ProtobufError::Truncated(_)), "{err}");
    }

    #[test]
    fn unterminated_varint_is_an_error() {
        let buf = [0x08, 0x80];
        assert!(matches!(
            Reader::new(&buf).read_field(),
            Err(ProtobufError::Truncated(_))
        ));
    }
}
