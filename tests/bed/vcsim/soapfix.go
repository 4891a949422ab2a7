package main

import (
	"bytes"
	"fmt"
	"io/ioutil"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
)

// A hook sees one SOAP method's request before the simulator does (and may
// rewrite it) and runs again after the simulator answered (tasks run to the
// end inside the call, so the model is final by then); after may return a
// response of its own instead of the simulator's (nil: keep it).
type hook struct {
	before func(req []byte) []byte
	after  func(req, resp []byte) []byte
}

var hooks = map[string]hook{}

var methodRe = regexp.MustCompile(`<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?([\w]+)`)

// wrapSDK puts the fixes in front of the simulator's HTTP handler.
func wrapSDK(server *simulator.Server) {
	next := server.Config.Handler
	server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/sdk") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := ioutil.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		method := ""
		if m := methodRe.FindSubmatch(body); m != nil {
			method = string(m[1])
		}
		h := hooks[method]
		if h.before != nil {
			body = h.before(body)
		}
		r.Body = ioutil.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rec := &recorder{header: http.Header{}, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		if h.after != nil {
			if own := h.after(body, rec.body.Bytes()); own != nil {
				rec.body.Reset()
				rec.body.Write(own)
				rec.code = http.StatusOK
				if bytes.Contains(own, []byte("<soapenv:Fault>")) {
					rec.code = http.StatusInternalServerError
				}
			}
		}
		out := addArrayItemTypes(rec.body.Bytes())
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(rec.code)
		_, _ = w.Write(out)
	})
}

const envelope = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" ` +
	`xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" ` +
	`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>`

// emptyResponse is the answer to a method that returns nothing.
func emptyResponse(method string) []byte {
	return []byte(fmt.Sprintf(envelope, fmt.Sprintf(`<%sResponse xmlns="urn:vim25"></%sResponse>`, method, method)))
}

// faultResponse is a SOAP fault of the vim25 type FAULT with its XML fields.
func faultResponse(message, fault, fields string) []byte {
	return []byte(fmt.Sprintf(envelope, fmt.Sprintf(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode>`+
		`<faultstring>%s</faultstring><detail><%sFault xmlns="urn:vim25" xsi:type="%s">%s</%sFault></detail>`+
		`</soapenv:Fault>`, message, fault, fault, fields, fault)))
}

type recorder struct {
	header http.Header
	body   bytes.Buffer
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.code = code }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// XML Schema's own types, as they appear in ArrayOfX names.
var xsdTypes = map[string]string{
	"String": "xsd:string", "Int": "xsd:int", "Long": "xsd:long", "Short": "xsd:short",
	"Byte": "xsd:byte", "Boolean": "xsd:boolean", "DateTime": "xsd:dateTime",
	"Float": "xsd:float", "Double": "xsd:double", "AnyURI": "xsd:anyURI",
	"Base64Binary": "xsd:base64Binary",
}

// addArrayItemTypes gives every item of an ArrayOfX value an xsi:type, as
// ESX does: libvirt reads such values as lists of AnyType and refuses an
// item without one ("AnyType is missing 'type' property"). The simulator's
// output is regular (quoted attributes, no comments or CDATA), so a scan of
// the tags is enough.
func addArrayItemTypes(in []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(in) + len(in)/8)
	var stack []string // per open element: X when its type is ArrayOfX
	for i := 0; i < len(in); {
		lt := bytes.IndexByte(in[i:], '<')
		if lt < 0 {
			out.Write(in[i:])
			break
		}
		out.Write(in[i : i+lt])
		i += lt
		gt := bytes.IndexByte(in[i:], '>')
		if gt < 0 {
			out.Write(in[i:])
			break
		}
		tag := in[i : i+gt+1]
		i += gt + 1
		switch {
		case bytes.HasPrefix(tag, []byte("<?")), bytes.HasPrefix(tag, []byte("<!")):
			out.Write(tag)
		case bytes.HasPrefix(tag, []byte("</")):
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			out.Write(tag)
		default:
			selfClosing := bytes.HasSuffix(tag, []byte("/>"))
			xsiType := xsiTypeOf(tag)
			if xsiType == "" && len(stack) > 0 && stack[len(stack)-1] != "" {
				xsiType = itemType(tag, stack[len(stack)-1])
				end := len(tag) - 1
				if selfClosing {
					end--
				}
				out.Write(tag[:end])
				out.WriteString(` xsi:type="` + xsiType + `"`)
				out.Write(tag[end:])
			} else {
				out.Write(tag)
			}
			if !selfClosing {
				stack = append(stack, strings.TrimPrefix(xsiType, "ArrayOf"))
				if !strings.HasPrefix(xsiType, "ArrayOf") {
					stack[len(stack)-1] = ""
				}
			}
		}
	}
	return out.Bytes()
}

var typeAttrRe = regexp.MustCompile(`\s[\w-]+:type="([^"]*)"`)

func xsiTypeOf(tag []byte) string {
	if m := typeAttrRe.FindSubmatch(tag); m != nil {
		return string(m[1])
	}
	return ""
}

func itemType(tag []byte, arrayOf string) string {
	if t, ok := xsdTypes[arrayOf]; ok {
		return t
	}
	name := string(tag[1:])
	if n := strings.IndexAny(name, " \t\r\n/>"); n >= 0 {
		name = name[:n]
	}
	if n := strings.IndexByte(name, ':'); n >= 0 {
		name = name[n+1:]
	}
	return name
}
