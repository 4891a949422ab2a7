package main

// What a real ESX host has and the simulator leaves out, filled in once at
// start (fixModel) or around the SOAP call that needs it (hooks). Each fix
// names what libvirt's esx driver (9.0) does without it.

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io/ioutil"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func fixModel() {
	for _, e := range simulator.Map.All("HostSystem") {
		host := e.(*simulator.HostSystem)
		fixHost(host)
		for _, ref := range host.Datastore {
			if ds, ok := simulator.Map.Get(ref).(*simulator.Datastore); ok {
				mountDatastore(ds, host)
			}
		}
	}
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		writeDiskDescriptors(vm)
		writeVMX(vm)
	}
	hooks["SearchDatastore_Task"] = hook{before: matchAllFiles, after: fillDiskFileInfo}
	hooks["SearchDatastoreSubFolders_Task"] = hook{before: matchAllFiles, after: fillDiskFileInfo}
	hooks["CreateVirtualDisk_Task"] = hook{after: describeCreatedDisk}
	hooks["RegisterVM_Task"] = hook{before: prepareRegistration, after: applyRegisteredVMX}
	hooks["ReconfigVM_Task"] = hook{after: syncVMX}
	hooks["RefreshDatastore"] = hook{after: answerRefresh}
	hooks["RebootGuest"] = hook{after: answerRebootGuest}
	fixSnapshots()
}

// A datastore's host mount has a path on ESX (/vmfs/volumes/UUID); libvirt
// reads it for every pool and for file names in a .vmx, and crashes
// without it. The simulator's datastore is a local directory: that is the
// path. In a vCenter, a datastore that hosts share lists a mount for each of
// them (the simulator keeps the last host's only: libvirt "Could not lookup
// datastore host mount" on the others).
func mountDatastore(ds *simulator.Datastore, host *simulator.HostSystem) {
	url := ds.Info.GetDatastoreInfo().Url
	for i := range ds.Host {
		if ds.Host[i].Key == host.Self {
			if ds.Host[i].MountInfo.Path == "" {
				ds.Host[i].MountInfo.Path = url
			}
			return
		}
	}
	ds.Host = append(ds.Host, types.DatastoreHostMount{
		Key: host.Self,
		MountInfo: types.HostMountInfo{
			Path:       url,
			AccessMode: string(types.HostMountModeReadWrite),
			Mounted:    types.NewBool(true),
			Accessible: types.NewBool(true),
		},
	})
}

// fixHost gives a host what ESX 6.5 reports: its capabilities (libvirt reads
// capability.maxSupportedVcpus before any vCPU change) and an autostart
// manager (libvirt reads and changes a guest's autostart through it).
func fixHost(host *simulator.HostSystem) {
	if host.Capability == nil {
		host.Capability = &types.HostCapability{
			RecursiveResourcePoolsSupported:         true,
			CpuMemoryResourceConfigurationSupported: true,
			RebootSupported:                         true,
			ShutdownSupported:                       true,
			VmotionSupported:                        true,
			MaxSupportedVMs:                         1024,
			MaxRunningVMs:                           1024,
			MaxSupportedVcpus:                       128,
			MaxRegisteredVMs:                        1024,
			SanSupported:                            true,
			NfsSupported:                            true,
			IscsiSupported:                          true,
			VlanTaggingSupported:                    true,
			NicTeamingSupported:                     true,
			HighGuestMemSupported:                   true,
			MaintenanceModeSupported:                true,
			SuspendedRelocateSupported:              true,
			VirtualExecUsageSupported:               types.NewBool(true),
		}
	}
	manager := &autoStartManager{}
	manager.Self = types.ManagedObjectReference{Type: "HostAutoStartManager", Value: "ha-autostart-mgr"} // ESX's name
	if !simulator.Map.IsESX() {
		manager.Self.Value = "autostartmanager-" + host.Self.Value
	}
	manager.Config.Defaults = &types.AutoStartDefaults{
		Enabled: types.NewBool(false), StartDelay: 120, StopDelay: 120,
		WaitForHeartbeat: types.NewBool(false), StopAction: "PowerOff",
	}
	put := simulator.Map.Put(manager).Reference()
	host.ConfigManager.AutoStartManager = &put
}

type autoStartManager struct {
	mo.HostAutoStartManager
}

// ReconfigureAutostart merges the defaults and the per-VM entries as ESX
// does; an entry whose start action is "none" leaves the list.
func (m *autoStartManager) ReconfigureAutostart(req *types.ReconfigureAutostart) soap.HasFault {
	if d := req.Spec.Defaults; d != nil {
		cur := m.Config.Defaults
		if d.Enabled != nil {
			cur.Enabled = d.Enabled
		}
		if d.StartDelay != 0 {
			cur.StartDelay = d.StartDelay
		}
		if d.StopDelay != 0 {
			cur.StopDelay = d.StopDelay
		}
		if d.WaitForHeartbeat != nil {
			cur.WaitForHeartbeat = d.WaitForHeartbeat
		}
		if d.StopAction != "" {
			cur.StopAction = d.StopAction
		}
	}
	for _, info := range req.Spec.PowerInfo {
		kept := m.Config.PowerInfo[:0]
		for _, old := range m.Config.PowerInfo {
			if old.Key != info.Key {
				kept = append(kept, old)
			}
		}
		m.Config.PowerInfo = kept
		if !strings.EqualFold(info.StartAction, "none") {
			m.Config.PowerInfo = append(m.Config.PowerInfo, info)
		}
	}
	return &methods.ReconfigureAutostartBody{Res: new(types.ReconfigureAutostartResponse)}
}

// ---------------------------------------------------------------- files --

// localPath is where the simulator keeps the file of a datastore path.
func localPath(dsPath string) (string, bool) {
	var p object.DatastorePath
	if !p.FromString(dsPath) {
		return "", false
	}
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		if ds.Name == p.Datastore {
			return filepath.Join(ds.Info.GetDatastoreInfo().Url, p.Path), true
		}
	}
	return "", false
}

// A .vmdk on ESX is a text descriptor naming its -flat extent and its size
// in 512-byte sectors; the simulator's are empty.
func writeDescriptor(file string, capacityKB int64) {
	if fi, err := os.Stat(file); err == nil && fi.Size() > 0 {
		return
	}
	base := strings.TrimSuffix(filepath.Base(file), ".vmdk")
	text := fmt.Sprintf("# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n"+
		"createType=\"vmfs\"\n\n# Extent description\nRW %d VMFS \"%s-flat.vmdk\"\n\n"+
		"# The Disk Data Base\nddb.adapterType = \"lsilogic\"\nddb.virtualHWVersion = \"13\"\n",
		capacityKB*2, base)
	_ = ioutil.WriteFile(file, []byte(text), 0600)
}

var extentRe = regexp.MustCompile(`(?m)^RW (\d+) `)

func descriptorCapacityKB(file string) int64 {
	data, err := ioutil.ReadFile(file)
	if err != nil {
		return 0
	}
	var kb int64
	for _, m := range extentRe.FindAllSubmatch(data, -1) {
		sectors, _ := strconv.ParseInt(string(m[1]), 10, 64)
		kb += sectors / 2
	}
	return kb
}

func writeDiskDescriptors(vm *simulator.VirtualMachine) {
	for _, dev := range vm.Config.Hardware.Device {
		disk, ok := dev.(*types.VirtualDisk)
		if !ok {
			continue
		}
		if b, ok := disk.Backing.(types.BaseVirtualDeviceFileBackingInfo); ok {
			if file, ok := localPath(b.GetVirtualDeviceFileBackingInfo().FileName); ok {
				writeDescriptor(file, disk.CapacityInKB)
			}
		}
	}
}

// ----------------------------------------------------------------- .vmx --

// A VM's .vmx is what libvirt reads for its XML (dumpxml); the simulator's
// own VMs have an empty one. Written from the VM's configuration.
func writeVMX(vm *simulator.VirtualMachine) {
	file, ok := localPath(vm.Config.Files.VmPathName)
	if !ok {
		return
	}
	if fi, err := os.Stat(file); err != nil || fi.Size() > 0 {
		return
	}
	hw := strings.TrimPrefix(vm.Config.Version, "vmx-")
	if hw == "" {
		hw = "13"
	}
	guestOS := "other"
	if strings.Contains(vm.Config.GuestId, "64") {
		guestOS = "other-64"
	}
	lines := []string{
		`.encoding = "UTF-8"`,
		`config.version = "8"`,
		fmt.Sprintf(`virtualHW.version = "%s"`, hw),
		fmt.Sprintf(`displayName = "%s"`, vm.Name),
		fmt.Sprintf(`guestOS = "%s"`, guestOS),
		fmt.Sprintf(`uuid.bios = "%s"`, vmxUUID(vm.Config.Uuid)),
		fmt.Sprintf(`memsize = "%d"`, vm.Config.Hardware.MemoryMB),
		fmt.Sprintf(`numvcpus = "%d"`, vm.Config.Hardware.NumCPU),
	}
	devices := object.VirtualDeviceList(vm.Config.Hardware.Device)
	dir := filepath.Dir(file)
	ethernet := 0
	for _, dev := range devices {
		switch d := dev.(type) {
		case types.BaseVirtualSCSIController:
			c := d.GetVirtualSCSIController()
			model := "lsilogic"
			switch dev.(type) {
			case *types.ParaVirtualSCSIController:
				model = "pvscsi"
			case *types.VirtualBusLogicController:
				model = "buslogic"
			case *types.VirtualLsiLogicSASController:
				model = "lsisas1068"
			}
			lines = append(lines, fmt.Sprintf(`scsi%d.present = "TRUE"`, c.BusNumber),
				fmt.Sprintf(`scsi%d.virtualDev = "%s"`, c.BusNumber, model))
		case *types.VirtualDisk:
			ctl, ok := devices.FindByKey(d.ControllerKey).(types.BaseVirtualSCSIController)
			b, isFile := d.Backing.(types.BaseVirtualDeviceFileBackingInfo)
			if !ok || !isFile || d.UnitNumber == nil {
				continue
			}
			name, _ := localPath(b.GetVirtualDeviceFileBackingInfo().FileName)
			if filepath.Dir(name) == dir {
				name = filepath.Base(name)
			}
			prefix := fmt.Sprintf("scsi%d:%d", ctl.GetVirtualSCSIController().BusNumber, *d.UnitNumber)
			lines = append(lines, prefix+`.present = "TRUE"`, prefix+`.deviceType = "scsi-hardDisk"`,
				fmt.Sprintf(`%s.fileName = "%s"`, prefix, name))
		case types.BaseVirtualEthernetCard:
			card := d.GetVirtualEthernetCard()
			b, ok := card.Backing.(*types.VirtualEthernetCardNetworkBackingInfo)
			if !ok {
				continue
			}
			model := "e1000"
			switch dev.(type) {
			case *types.VirtualVmxnet3:
				model = "vmxnet3"
			case *types.VirtualE1000e:
				model = "e1000e"
			}
			prefix := fmt.Sprintf("ethernet%d", ethernet)
			ethernet++
			lines = append(lines, prefix+`.present = "TRUE"`,
				fmt.Sprintf(`%s.virtualDev = "%s"`, prefix, model),
				fmt.Sprintf(`%s.networkName = "%s"`, prefix, b.DeviceName),
				prefix+`.connectionType = "bridged"`,
				prefix+`.addressType = "generated"`,
				fmt.Sprintf(`%s.generatedAddress = "%s"`, prefix, card.MacAddress))
		}
	}
	_ = ioutil.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0600)
}

// vmxUUID writes a UUID as a .vmx does: "56 4d 01 ... 0f-10 11 ... 1f".
func vmxUUID(uuid string) string {
	hex := strings.ReplaceAll(uuid, "-", "")
	if len(hex) != 32 {
		return uuid
	}
	var parts []string
	for i := 0; i < 32; i += 2 {
		parts = append(parts, hex[i:i+2])
	}
	return strings.Join(parts[:8], " ") + "-" + strings.Join(parts[8:], " ")
}

// uuidFromVMX reads one back: 32 hex digits as 8-4-4-4-12.
func uuidFromVMX(value string) string {
	var hex []byte
	for _, c := range []byte(strings.ToLower(value)) {
		if (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') {
			hex = append(hex, c)
		}
	}
	if len(hex) != 32 {
		return ""
	}
	h := string(hex)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

var vmxLineRe = regexp.MustCompile(`^\s*([^=\s]+)\s*=\s*"(.*)"\s*$`)

func readVMX(file string) (map[string]string, []string) {
	values := map[string]string{}
	var order []string
	f, err := os.Open(file)
	if err != nil {
		return values, order
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if m := vmxLineRe.FindStringSubmatch(scanner.Text()); m != nil {
			key := strings.ToLower(m[1])
			if _, seen := values[key]; !seen {
				order = append(order, m[1])
			}
			values[key] = m[2]
		}
	}
	return values, order
}

// setVMXValues changes (or adds) keys of a .vmx in place, as ESX rewrites
// it when a VM is reconfigured.
func setVMXValues(file string, set map[string]string) {
	data, err := ioutil.ReadFile(file)
	if err != nil {
		return
	}
	done := map[string]bool{}
	var out []string
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if m := vmxLineRe.FindStringSubmatch(line); m != nil {
			if v, ok := set[strings.ToLower(m[1])]; ok {
				done[strings.ToLower(m[1])] = true
				if v == "" {
					continue // removed
				}
				line = fmt.Sprintf(`%s = "%s"`, m[1], v)
			}
		}
		out = append(out, line)
	}
	var keys []string
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !done[k] && set[k] != "" {
			out = append(out, fmt.Sprintf(`%s = "%s"`, k, set[k]))
		}
	}
	_ = ioutil.WriteFile(file, []byte(strings.Join(out, "\n")+"\n"), 0600)
}

// ---------------------------------------------------------------- hooks --

type soapRequest struct {
	Body struct {
		Call struct {
			This types.ManagedObjectReference `xml:"_this"`
			Path string                       `xml:"path"`
			Name string                       `xml:"name"`
			Spec struct {
				CapacityKb int64 `xml:"capacityKb"`
			} `xml:"spec"`
		} `xml:",any"`
	} `xml:"Body"`
}

func parseRequest(req []byte) soapRequest {
	var r soapRequest
	_ = xml.Unmarshal(req, &r)
	return r
}

var taskRe = regexp.MustCompile(`<returnval type="Task">([^<]+)</returnval>`)

// taskOf is the task a *_Task call answered with, run to its end.
func taskOf(resp []byte) *simulator.Task {
	m := taskRe.FindSubmatch(resp)
	if m == nil {
		return nil
	}
	task, _ := simulator.Map.Get(types.ManagedObjectReference{Type: "Task", Value: string(m[1])}).(*simulator.Task)
	return task
}

var matchPatternRe = regexp.MustCompile(`<(?:[\w-]+:)?matchPattern[\s>]`)

// A search spec without a match pattern matches every file on ESX; the
// simulator matches none (libvirt sends none when it lists volumes).
func matchAllFiles(req []byte) []byte {
	if matchPatternRe.Match(req) {
		return req
	}
	return bytes.Replace(req, []byte("</searchSpec>"), []byte("<matchPattern>*</matchPattern></searchSpec>"), 1)
}

// ESX reports a virtual disk's capacity; the simulator does not, and
// libvirt crashes reading a volume without it. Folder paths as ESX writes them.
func fillDiskFileInfo(_ []byte, resp []byte) []byte {
	task := taskOf(resp)
	if task == nil {
		return nil
	}
	var results []types.HostDatastoreBrowserSearchResults
	switch r := task.Info.Result.(type) {
	case types.ArrayOfHostDatastoreBrowserSearchResults:
		results = r.HostDatastoreBrowserSearchResults // shared: changed in place
	case types.HostDatastoreBrowserSearchResults:
		results = append(results, r)
		defer func() { task.Info.Result = results[0] }()
	}
	for i := range results {
		res := &results[i]
		// "[ds] dir" as ESX writes it: the simulator joins "[ds]" and
		// "dir" as paths ("[ds]/dir") and libvirt's volume names would
		// start with "/".
		var p object.DatastorePath
		if p.FromString(res.FolderPath) {
			p.Path = strings.TrimLeft(p.Path, "/")
			res.FolderPath = p.String()
		}
		dir, ok := localPath(res.FolderPath)
		if !ok {
			continue
		}
		for _, f := range res.File {
			disk, ok := f.(*types.VmDiskFileInfo)
			if !ok {
				continue
			}
			file := filepath.Join(dir, disk.Path)
			if disk.CapacityKb == 0 {
				disk.CapacityKb = descriptorCapacityKB(file)
			}
			if disk.FileSize == 0 {
				if fi, err := os.Stat(file); err == nil {
					disk.FileSize = fi.Size()
				}
			}
		}
	}
	return nil
}

func describeCreatedDisk(req []byte, _ []byte) []byte {
	r := parseRequest(req)
	if file, ok := localPath(r.Body.Call.Name); ok && r.Body.Call.Spec.CapacityKb > 0 {
		writeDescriptor(file, r.Body.Call.Spec.CapacityKb)
	}
	return nil
}

// ESX registers a VM from its .vmx alone; the simulator wants the NVRAM
// and log files beside it that it would have made for a new VM.
func prepareRegistration(req []byte) []byte {
	r := parseRequest(req)
	file, ok := localPath(r.Body.Call.Path)
	if !ok {
		return req
	}
	name := r.Body.Call.Name
	if name == "" {
		name = path.Base(path.Dir(file))
	}
	for _, f := range []string{name + ".nvram", "vmware.log"} {
		p := filepath.Join(filepath.Dir(file), f)
		if _, err := os.Stat(p); os.IsNotExist(err) {
			_ = ioutil.WriteFile(p, nil, 0600)
		}
	}
	return req
}

// ESX takes a registered VM's identity and size from its .vmx; the
// simulator gives it defaults. Applied from the file libvirt uploaded.
func applyRegisteredVMX(req []byte, resp []byte) []byte {
	task := taskOf(resp)
	if task == nil || task.Info.Error != nil {
		return nil
	}
	ref, ok := task.Info.Result.(types.ManagedObjectReference)
	if !ok {
		return nil
	}
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return nil
	}
	file, ok := localPath(parseRequest(req).Body.Call.Path)
	if !ok {
		return nil
	}
	values, _ := readVMX(file)
	simulator.Map.WithLock(vm, func() {
		if uuid := uuidFromVMX(values["uuid.bios"]); uuid != "" {
			vm.Config.Uuid = uuid
			vm.Summary.Config.Uuid = uuid
		}
		if mb, err := strconv.Atoi(values["memsize"]); err == nil {
			vm.Config.Hardware.MemoryMB = int32(mb)
			vm.Summary.Config.MemorySizeMB = int32(mb)
		}
		if n, err := strconv.Atoi(values["numvcpus"]); err == nil {
			vm.Config.Hardware.NumCPU = int32(n)
			vm.Summary.Config.NumCpu = int32(n)
		}
		if limit, err := strconv.ParseInt(values["sched.mem.max"], 10, 64); err == nil {
			if vm.Config.MemoryAllocation == nil {
				vm.Config.MemoryAllocation = &types.ResourceAllocationInfo{}
			}
			vm.Config.MemoryAllocation.Limit = &limit
		}
		if a, ok := values["annotation"]; ok {
			vm.Config.Annotation = a
			vm.Summary.Config.Annotation = a
		}
		if hw := values["virtualhw.version"]; hw != "" {
			vm.Config.Version = "vmx-" + hw
		}
	})
	return nil
}

// ESX rewrites a VM's .vmx when it is reconfigured; libvirt reads the
// memory and vCPUs back from there.
func syncVMX(req []byte, _ []byte) []byte {
	vm, ok := simulator.Map.Get(parseRequest(req).Body.Call.This).(*simulator.VirtualMachine)
	if !ok {
		return nil
	}
	file, ok := localPath(vm.Config.Files.VmPathName)
	if !ok {
		return nil
	}
	set := map[string]string{}
	simulator.Map.WithLock(vm, func() {
		set["memsize"] = strconv.Itoa(int(vm.Config.Hardware.MemoryMB))
		set["numvcpus"] = strconv.Itoa(int(vm.Config.Hardware.NumCPU))
		if a := vm.Config.MemoryAllocation; a != nil && a.Limit != nil {
			set["sched.mem.max"] = ""
			if *a.Limit >= 0 {
				set["sched.mem.max"] = strconv.FormatInt(*a.Limit, 10)
			}
		}
	})
	setVMXValues(file, set)
	return nil
}

// RefreshDatastore runs in the simulator, which then fails to encode its
// empty answer (an empty body: libvirt "failed to parse xml document").
func answerRefresh(_ []byte, resp []byte) []byte {
	if len(bytes.TrimSpace(resp)) == 0 {
		return emptyResponse("RefreshDatastore")
	}
	return nil
}

// RebootGuest asks VMware Tools to reboot the guest; the simulator lacks
// it. The guest stays powered on, as it does through a reboot.
func answerRebootGuest(req []byte, resp []byte) []byte {
	if !bytes.Contains(resp, []byte("MethodNotFound")) {
		return nil // not authenticated, no such VM: the simulator's answer stands
	}
	vm, ok := simulator.Map.Get(parseRequest(req).Body.Call.This).(*simulator.VirtualMachine)
	if !ok {
		return nil
	}
	if state := vm.Runtime.PowerState; state != types.VirtualMachinePowerStatePoweredOn {
		return faultResponse("The attempted operation cannot be performed in the current state", "InvalidPowerState",
			fmt.Sprintf("<requestedState>poweredOn</requestedState><existingState>%s</existingState>", state))
	}
	return emptyResponse("RebootGuest")
}
