//go:build zlib && cgo

package zlibref

/*
#cgo LDFLAGS: -lz
#cgo noescape zr_inflate
#cgo nocallback zr_inflate
#include <stdlib.h>
#include <zlib.h>

// zr_new allocates and initialises a raw inflate stream with a window of
// 1<<wbits bytes; on failure it returns NULL and the zlib code in *rc.
static z_stream *zr_new(int wbits, int *rc) {
	z_stream *s = calloc(1, sizeof *s);
	if (s == NULL) {
		*rc = Z_MEM_ERROR;
		return NULL;
	}
	*rc = inflateInit2(s, -wbits);
	if (*rc != Z_OK) {
		free(s);
		return NULL;
	}
	return s;
}

// zr_inflate inflates in into out with Z_SYNC_FLUSH, reporting the bytes
// read and written. It leaves no pointer to them in the stream.
static int zr_inflate(z_stream *s, unsigned char *in, size_t inlen, unsigned char *out, size_t outcap,
		size_t *nin, size_t *nout) {
	s->next_in = in;
	s->avail_in = (uInt)inlen;
	s->next_out = out;
	s->avail_out = (uInt)outcap;
	int rc = inflate(s, Z_SYNC_FLUSH);
	*nin = inlen - s->avail_in;
	*nout = outcap - s->avail_out;
	s->next_in = Z_NULL;
	s->avail_in = 0;
	s->next_out = Z_NULL;
	s->avail_out = 0;
	return rc;
}

static void zr_free(z_stream *s) {
	inflateEnd(s);
	free(s);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Version is the version of the zlib library linked in.
func Version() string { return C.GoString(C.zlibVersion()) }

// Inflater is a zlib raw inflate stream. It is not safe for concurrent use;
// Close frees it.
type Inflater struct {
	s *C.z_stream
}

// New returns an Inflater with a window of 1<<windowBits bytes (8..15), as
// inflateInit2(strm, -windowBits) makes it.
func New(windowBits int) (*Inflater, error) {
	var rc C.int
	s := C.zr_new(C.int(windowBits), &rc)
	if s == nil {
		return nil, fmt.Errorf("zlib inflateInit2(-%d): error %d", windowBits, int(rc))
	}
	return &Inflater{s: s}, nil
}

// Reset starts a new stream (inflateReset): the window is cleared.
func (z *Inflater) Reset() error {
	if rc := C.inflateReset(z.s); rc != C.Z_OK {
		return fmt.Errorf("zlib inflateReset: error %d", int(rc))
	}
	return nil
}

// Append inflates in, all of it, with Z_SYNC_FLUSH and appends the output
// to dst, growing it when its spare capacity runs out. A permessage-deflate
// receiver passes a message's payload followed by 00 00 ff ff.
func (z *Inflater) Append(dst, in []byte) ([]byte, error) {
	if len(in) > math.MaxUint32 {
		return dst, errors.New("zlib: input too long")
	}
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		out := dst[len(dst):cap(dst)]
		var inp *C.uchar
		if len(in) > 0 {
			inp = (*C.uchar)(unsafe.Pointer(&in[0]))
		}
		var nin, nout C.size_t
		rc := C.zr_inflate(z.s, inp, C.size_t(len(in)),
			(*C.uchar)(unsafe.Pointer(&out[0])), C.size_t(min(len(out), math.MaxUint32)), &nin, &nout)
		dst = dst[:len(dst)+int(nout)]
		in = in[nin:]
		switch {
		case rc == C.Z_STREAM_END:
			return dst, nil // BFINAL: what follows is not deflate
		case rc == C.Z_OK, rc == C.Z_BUF_ERROR && (nin > 0 || nout > 0):
		case rc == C.Z_BUF_ERROR && len(in) == 0:
			return dst, nil // nothing more to decode
		default:
			msg := "no progress"
			if z.s.msg != nil {
				msg = C.GoString(z.s.msg)
			}
			return dst, fmt.Errorf("zlib inflate: error %d (%s)", int(rc), msg)
		}
		// Done when the input is used up and zlib had room to spare (a
		// full output buffer may hide pending output).
		if len(in) == 0 && int(nout) < len(out) {
			return dst, nil
		}
	}
}

// Close frees the stream (inflateEnd).
func (z *Inflater) Close() {
	if z.s != nil {
		C.zr_free(z.s)
		z.s = nil
	}
}
