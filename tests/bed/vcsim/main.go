// Command vcsim-virtkit starts govmomi's vSphere simulator (VMware's own Go
// implementation of the vSphere API) as an ESX host or a vCenter on
// 127.0.0.1 with TLS, patched where libvirt's esx driver needs what a real
// ESX answers (see fixes.go and soapfix.go). Built by tests/bed/vcsim.sh in
// GOPATH mode against Debian's golang-github-vmware-govmomi-dev.
//
// It prints one JSON line when it serves ({"url", "port", "ca"}) and stops on
// SIGTERM or SIGINT, or when its standard input closes (-stdin-lifeline), so
// that a test session that dies never leaves it behind.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	mode := flag.String("mode", "esx", "esx (a standalone ESX host) or vpx (a vCenter)")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0: a free one)")
	user := flag.String("username", "root", "the user name the simulator accepts")
	passwordEnv := flag.String("password-env", "VCSIM_PASSWORD", "environment variable holding the password")
	dir := flag.String("dir", "", "directory for the certificates (default: a temporary one)")
	trace := flag.Bool("trace", false, "print every SOAP request and response to stderr")
	lifeline := flag.Bool("stdin-lifeline", false, "exit when standard input reaches end of file")
	flag.Parse()

	password := os.Getenv(*passwordEnv)
	if password == "" {
		log.Fatalf("set the password in $%s", *passwordEnv)
	}
	var model *simulator.Model
	switch *mode {
	case "esx":
		model = simulator.ESX()
	case "vpx":
		model = simulator.VPX()
		model.Machine = 1
		model.ClusterHost = 1
	default:
		log.Fatalf("-mode: esx or vpx, not %q", *mode)
	}
	if *trace {
		simulator.Trace = true
		simulator.TraceFile = os.Stderr
	}
	// The simulator logs to stderr and into the VMs' vmware.log: keep stderr
	// for what a test needs to see.
	if !*trace {
		log.SetOutput(ioutil.Discard)
	}
	model.Autostart = false // the simulator's own VMs start powered off, as after a host boot
	if err := model.Create(); err != nil {
		log.Fatalf("create the %s model: %s", *mode, err)
	}
	defer model.Remove()

	certDir := *dir
	if certDir == "" {
		d, err := ioutil.TempDir("", "vcsim-virtkit-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		certDir = d
	}
	tlsConfig, caFile, err := makeTLS(certDir)
	if err != nil {
		log.Fatalf("TLS: %s", err)
	}

	fixModel()
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, password)}
	model.Service.TLS = tlsConfig
	server := model.Service.NewServer()
	defer server.Close()
	wrapSDK(server)

	ready, _ := json.Marshal(map[string]interface{}{
		"url":  fmt.Sprintf("https://%s/sdk", server.URL.Host),
		"host": server.URL.Hostname(),
		"port": server.URL.Port(),
		"ca":   caFile,
		"mode": *mode,
	})
	fmt.Println(string(ready))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	if *lifeline {
		go func() {
			_, _ = io.Copy(ioutil.Discard, os.Stdin)
			stop <- syscall.SIGTERM
		}()
	}
	<-stop
}
