package voice

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ONNXInfo is what InspectONNX reads from an ONNX model file without
// loading it: enough to tell a truncated download, a file that is not a
// model, or the wrong model from the one expected, before handing it to
// sherpa-onnx, which ends the whole process on such files.
type ONNXInfo struct {
	IRVersion uint64
	Producer  string
	Inputs    []string
	Outputs   []string
	Metadata  map[string]string
}

// ErrBadONNX: the file is not a whole ONNX model.
var ErrBadONNX = errors.New("not a complete ONNX model")

// ONNX protobuf field numbers (onnx/onnx.proto3).
const (
	modelIRVersion = 1
	modelProducer  = 2
	modelGraph     = 7
	modelMetadata  = 14
	graphInput     = 11
	graphOutput    = 12
	valueInfoName  = 1
	entryKey       = 1
	entryValue     = 2
)

// InspectONNX walks the protobuf structure of an ONNX model file: every
// field of the model and of its graph must lie within the file (a cut
// download does not), and the model must have an IR version and a graph.
// Large weights are skipped, not read, so a 900 MB model costs little.
func InspectONNX(path string) (ONNXInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return ONNXInfo{Metadata: map[string]string{}}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ONNXInfo{Metadata: map[string]string{}}, err
	}
	info, err := inspectONNX(f, st.Size())
	if err != nil {
		return info, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// inspectONNX reads the model in the first size bytes of f.
func inspectONNX(f io.ReaderAt, size int64) (ONNXInfo, error) {
	info := ONNXInfo{Metadata: map[string]string{}}
	r := &pbReader{f: f, end: size}
	if size == 0 {
		return info, fmt.Errorf("%w: the file is empty", ErrBadONNX)
	}
	haveGraph := false
	err := r.fields(0, size, func(num int, wire int, v uint64, off, n int64) error {
		switch {
		case num == modelIRVersion && wire == wireVarint:
			info.IRVersion = v
		case num == modelProducer && wire == wireBytes:
			s, err := r.str(off, n)
			info.Producer = s
			return err
		case num == modelMetadata && wire == wireBytes:
			var k, val string
			err := r.fields(off, off+n, func(num, wire int, _ uint64, o, l int64) error {
				var err error
				if wire == wireBytes && num == entryKey {
					k, err = r.str(o, l)
				} else if wire == wireBytes && num == entryValue {
					val, err = r.str(o, l)
				}
				return err
			})
			info.Metadata[k] = val
			return err
		case num == modelGraph && wire == wireBytes:
			haveGraph = true
			return r.fields(off, off+n, func(gnum, wire int, _ uint64, o, l int64) error {
				if wire != wireBytes || (gnum != graphInput && gnum != graphOutput) {
					return nil
				}
				return r.fields(o, o+l, func(num, wire int, _ uint64, o2, l2 int64) error {
					if num != valueInfoName || wire != wireBytes {
						return nil
					}
					s, err := r.str(o2, l2)
					if gnum == graphInput {
						info.Inputs = append(info.Inputs, s)
					} else {
						info.Outputs = append(info.Outputs, s)
					}
					return err
				})
			})
		}
		return nil
	})
	if err != nil {
		return info, fmt.Errorf("%w: %v (a cut-short download or not an ONNX file)", ErrBadONNX, err)
	}
	if info.IRVersion == 0 || info.IRVersion > 100 || !haveGraph {
		return info, fmt.Errorf("%w: no IR version or no graph (not an ONNX file)", ErrBadONNX)
	}
	return info, nil
}

// Protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// pbReader reads protobuf fields from a file by offset, through a small
// window, so that fields holding weights are skipped without being read.
type pbReader struct {
	f      io.ReaderAt
	end    int64
	buf    []byte
	bufOff int64
}

// byteAt returns the byte at off.
func (r *pbReader) byteAt(off int64) (byte, error) {
	if off < 0 || off >= r.end {
		return 0, io.ErrUnexpectedEOF
	}
	if off < r.bufOff || off >= r.bufOff+int64(len(r.buf)) {
		if r.buf == nil {
			r.buf = make([]byte, 0, 64<<10)
		}
		n, err := r.f.ReadAt(r.buf[:cap(r.buf)], off)
		if n == 0 && err != nil {
			return 0, err
		}
		r.buf, r.bufOff = r.buf[:n], off
	}
	return r.buf[off-r.bufOff], nil
}

func (r *pbReader) varint(off int64) (uint64, int64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		b, err := r.byteAt(off + int64(i))
		if err != nil {
			return 0, 0, err
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, off + int64(i) + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("a varint longer than 10 bytes at byte %d", off)
}

// maxString bounds the names and metadata values read into memory.
const maxString = 1 << 20

func (r *pbReader) str(off, n int64) (string, error) {
	if n > maxString {
		return "", fmt.Errorf("a %d-byte string at byte %d", n, off)
	}
	b := make([]byte, n)
	if _, err := r.f.ReadAt(b, off); err != nil {
		return "", err
	}
	return string(b), nil
}

// fields calls fn for every field in [from, to): its number, wire type,
// value (varints) or offset and length (length-delimited). Every field
// must end exactly at or before to.
func (r *pbReader) fields(from, to int64, fn func(num, wire int, v uint64, off, n int64) error) error {
	for p := from; p < to; {
		key, next, err := r.varint(p)
		if err != nil {
			return fmt.Errorf("field at byte %d: %w", p, err)
		}
		if next > to {
			return fmt.Errorf("field at byte %d runs past the end of its message", p)
		}
		num, wire := int(key>>3), int(key&7)
		if num == 0 {
			return fmt.Errorf("field number 0 at byte %d", p)
		}
		var v uint64
		var off, n int64
		switch wire {
		case wireVarint:
			v, next, err = r.varint(next)
			if err != nil {
				return fmt.Errorf("field %d at byte %d: %w", num, p, err)
			}
		case wireFixed64:
			off, n = next, 8
			next += 8
		case wireFixed32:
			off, n = next, 4
			next += 4
		case wireBytes:
			var l uint64
			l, off, err = r.varint(next)
			if err != nil {
				return fmt.Errorf("field %d at byte %d: %w", num, p, err)
			}
			if off > to || l > uint64(to-off) {
				return fmt.Errorf("field %d at byte %d claims %d bytes, %d are left", num, p, l, to-off)
			}
			n = int64(l)
			next = off + n
		default:
			return fmt.Errorf("field %d at byte %d has wire type %d", num, p, wire)
		}
		if next > to {
			return fmt.Errorf("field %d at byte %d runs past the end", num, p)
		}
		if err := fn(num, wire, v, off, n); err != nil {
			return err
		}
		p = next
	}
	return nil
}
