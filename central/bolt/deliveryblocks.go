package bolt

import (
	"encoding/binary"
	"errors"
	"log/slog"

	"go.etcd.io/bbolt"

	"allimi"
)

// Delivery records are stored deliveriesPerBlock to an entry, keyed
// notification id(8) | channel(1) | block(4), where block (seq-1)/32
// holds recipients 32·block+1 to 32·block+32: a campaign's commit writes
// a thirty-second of the entries it would one by one. An entry is one
// slot per recipient, in order, each uvarint(length) | delivery.encode(),
// length 0 for a recipient with no record (queued, or not on this
// channel); the slots after the last record are left out.
const deliveriesPerBlock = 32

var errDamagedDeliveries = errors.New("damaged deliveries entry")

func deliveryBlockKey(ref allimi.DeliveryRef) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 13), ref.Notification)
	k = append(k, channelIndex(ref.Channel))
	return binary.BigEndian.AppendUint32(k, (ref.Seq-1)/deliveriesPerBlock)
}

// deliveryBlock is one decoded entry: the records present, by slot.
type deliveryBlock struct {
	present uint32
	recs    [deliveriesPerBlock]allimi.DeliveryRecord
	dirty   bool
}

// eachSlot calls f with each slot of entry v in order, its index and its
// record (empty for none), until f returns false. A slot that runs past
// the entry's end, or one too many, is errDamagedDeliveries.
func eachSlot(v []byte, f func(i int, rec []byte) bool) error {
	for i := 0; len(v) > 0; i++ {
		n, w := binary.Uvarint(v)
		if i >= deliveriesPerBlock || w <= 0 || n > uint64(len(v)-w) {
			return errDamagedDeliveries
		}
		if !f(i, v[w:w+int(n)]) {
			return nil
		}
		v = v[w+int(n):]
	}
	return nil
}

// decodeDeliveryBlock decodes an entry; a damaged one gives an error and
// the records before the damage.
func decodeDeliveryBlock(v []byte) (*deliveryBlock, error) {
	b := &deliveryBlock{}
	damaged := false
	err := eachSlot(v, func(i int, rec []byte) bool {
		if len(rec) == 0 {
			return true
		}
		d, err := decodeDelivery(rec)
		if err != nil {
			damaged = true
			return false
		}
		b.recs[i], b.present = d, b.present|1<<i
		return true
	})
	if damaged {
		err = errDamagedDeliveries
	}
	return b, err
}

func (b *deliveryBlock) encode() []byte {
	last := -1
	size := 0
	for i := range deliveriesPerBlock {
		if b.present&(1<<i) != 0 {
			last = i
			size += 1 + deliveryFixed + len(b.recs[i].Reason)
		}
	}
	v := make([]byte, 0, size+last+1)
	for i := 0; i <= last; i++ {
		if b.present&(1<<i) == 0 {
			v = append(v, 0)
			continue
		}
		d := &b.recs[i]
		v = binary.AppendUvarint(v, uint64(deliveryFixed+len(d.Reason)))
		v = appendDelivery(v, d)
	}
	return v
}

// getDelivery reads one delivery's record; ok is false when it has none.
func getDelivery(tx *bbolt.Tx, ref allimi.DeliveryRef) (d allimi.DeliveryRecord, ok bool, err error) {
	if ref.Seq == 0 {
		return d, false, nil
	}
	v := tx.Bucket(bucketDeliveries).Get(deliveryBlockKey(ref))
	if v == nil {
		return d, false, nil
	}
	slot := int((ref.Seq - 1) % deliveriesPerBlock)
	var decodeErr error
	walkErr := eachSlot(v, func(i int, rec []byte) bool {
		if i < slot {
			return true
		}
		if len(rec) > 0 {
			d, decodeErr = decodeDelivery(rec)
			ok = decodeErr == nil
		}
		return false
	})
	if walkErr != nil {
		return allimi.DeliveryRecord{}, false, walkErr
	}
	return d, ok, decodeErr
}

// deliveryWriter reads and changes delivery records within one write
// transaction, a block at a time; flush stores the blocks it changed.
// Records read through it see its own changes.
//
// A damaged entry does not stop the transaction (which would stop a
// channel's whole pipeline): the records before the damage are kept, the
// rest read as none, and flush logs where it was (damaged lists it).
type deliveryWriter struct {
	b       *bbolt.Bucket
	blocks  map[string]*deliveryBlock
	order   []string // keys in first-touched order, for flush
	damaged []allimi.DeliveryRef
	log     *slog.Logger
}

func newDeliveryWriter(tx *bbolt.Tx, log *slog.Logger) *deliveryWriter {
	b := tx.Bucket(bucketDeliveries)
	b.FillPercent = 0.9 // a campaign's blocks arrive mostly in order
	return &deliveryWriter{b: b, blocks: map[string]*deliveryBlock{}, log: log}
}

func (w *deliveryWriter) block(ref allimi.DeliveryRef) *deliveryBlock {
	k := deliveryBlockKey(ref)
	if b, ok := w.blocks[string(k)]; ok {
		return b
	}
	b := &deliveryBlock{}
	if v := w.b.Get(k); v != nil {
		var err error
		if b, err = decodeDeliveryBlock(v); err != nil {
			first := ref
			first.Seq = (ref.Seq-1)/deliveriesPerBlock*deliveriesPerBlock + 1
			w.damaged = append(w.damaged, first)
		}
	}
	w.blocks[string(k)] = b
	w.order = append(w.order, string(k))
	return b
}

// Get reads one delivery's record; ok is false when it has none.
func (w *deliveryWriter) Get(ref allimi.DeliveryRef) (allimi.DeliveryRecord, bool) {
	if ref.Seq == 0 {
		return allimi.DeliveryRecord{}, false
	}
	b := w.block(ref)
	i := (ref.Seq - 1) % deliveriesPerBlock
	return b.recs[i], b.present&(1<<i) != 0
}

// Put sets one delivery's record.
func (w *deliveryWriter) Put(ref allimi.DeliveryRef, d allimi.DeliveryRecord) error {
	if ref.Seq == 0 {
		return errors.New("delivery of recipient 0")
	}
	b := w.block(ref)
	i := (ref.Seq - 1) % deliveriesPerBlock
	b.recs[i], b.present, b.dirty = d, b.present|1<<i, true
	return nil
}

// Flush stores every block changed, and logs the damaged ones met.
func (w *deliveryWriter) Flush() error {
	for _, r := range w.damaged {
		w.log.Error("damaged delivery records rewritten", "from", r.Key())
	}
	for _, k := range w.order {
		if b := w.blocks[k]; b.dirty {
			if err := w.b.Put([]byte(k), b.encode()); err != nil {
				return err
			}
			b.dirty = false
		}
	}
	return nil
}
