# Writes tests/vectors/*.json. The expectations below are written by hand from the
# protocol specification; regenerate after editing: python3 tests/vectors/tools/generate.py
import json, base64, os
B=lambda b: base64.b64encode(b).decode()
def case(name, eio, form, inp, packets, error=None, binary=False, canonical=False, options=None):
    c={"name":name,"eio":eio,"form":form}
    if binary: c["binary"]=True
    if isinstance(inp, bytes):
        try:
            s=inp.decode('utf-8')
            c["input"]=s
        except UnicodeDecodeError:
            c["input_base64"]=B(inp)
    else: c["input"]=inp
    c["packets"]=packets
    if error: c["error"]={"code":error[0],"offset":error[1]}
    if canonical: c["canonical"]=True
    if options: c["options"]=options
    return c
T=lambda t,d=None: ({"type":t} if d is None else {"type":t,"data":d})
Bin=lambda t,b: {"type":t,"data":B(b),"binary":True}
types=["open","close","ping","pong","message","upgrade","noop"]
U2="é"; U3="€"; U4="😀"
handshake='{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}'
v4p=[]; v4w=[]; v3p=[]; v3b=[]; v3w=[]
# ---- v4 polling
for i,t in enumerate(types):
    v4p.append(case(f"v4 polling: {t} without data", 4,"polling", str(i), [T(t)], canonical=True))
v4p += [
 case("spec: handshake open packet",4,"polling","0"+handshake,[T("open",handshake)],canonical=True),
 case("spec: text then binary",4,"polling","4hello\x1ebAQIDBA==",[T("message","hello"),Bin("message",bytes([1,2,3,4]))],canonical=True),
 case("spec: probe ping",4,"polling","2probe",[T("ping","probe")],canonical=True),
 case("three messages",4,"polling","4a\x1e4bc\x1e4",[T("message","a"),T("message","bc"),T("message","")],canonical=True),
 case("ping, noop, message",4,"polling","2\x1e6\x1e4x",[T("ping"),T("noop"),T("message","x")],canonical=True),
 case("UTF-8 2,3,4-byte sequences",4,"polling","4"+U2+U3+U4+"\x1e4"+U4*3,[T("message",U2+U3+U4),T("message",U4*3)],canonical=True),
 case("binary empty",4,"polling","b",[Bin("message",b"")],canonical=True),
 case("binary with one and two padding chars",4,"polling","bAQ==\x1ebAQI=",[Bin("message",b"\x01"),Bin("message",b"\x01\x02")],canonical=True),
 case("binary without padding is accepted",4,"polling","bAQ\x1ebAQI",[Bin("message",b"\x01"),Bin("message",b"\x01\x02")]),
 case("text data may contain 'b' and digits",4,"polling","4b12:x",[T("message","b12:x")],canonical=True),
 case("empty payload",4,"polling","",[],error=("empty_payload",0)),
 case("unknown type 7",4,"polling","7",[],error=("unknown_packet_type",0)),
 case("unknown type letter after a good packet",4,"polling","4ok\x1ex",[T("message","ok")],error=("unknown_packet_type",4)),
 case("empty packet between separators",4,"polling","4a\x1e\x1e4b",[T("message","a")],error=("empty_packet",3)),
 case("trailing separator",4,"polling","4a\x1e",[T("message","a")],error=("empty_packet",3)),
 case("leading separator",4,"polling","\x1e4a",[],error=("empty_packet",0)),
 case("bad base64 character",4,"polling","bAQ*D",[],error=("invalid_base64",3)),
 case("base64 bad length",4,"polling","4x\x1ebAQIDB",[T("message","x")],error=("invalid_base64",9)),
 case("base64 padding in the middle",4,"polling","bAQ=D",[],error=("invalid_base64",3)),
 case("invalid UTF-8: lone continuation byte",4,"polling",b"4a\x80b",[],error=("invalid_utf8",2)),
 case("invalid UTF-8: overlong",4,"polling",b"4\xc0\xaf",[],error=("invalid_utf8",1)),
 case("invalid UTF-8: surrogate",4,"polling",b"4ab\xed\xa0\x80",[],error=("invalid_utf8",3)),
 case("invalid UTF-8: cut before separator",4,"polling",b"4\xe2\x82\x1e4a",[],error=("invalid_utf8",1)),
 case("invalid UTF-8: beyond U+10FFFF",4,"polling",b"4\xf4\x90\x80\x80",[],error=("invalid_utf8",1)),
 case("payload at the byte limit",4,"polling","4abc\x1e4d",[T("message","abc"),T("message","d")],options={"max_payload_bytes":7}),
 case("payload one byte over the limit",4,"polling","4abc\x1e4de",[T("message","abc")],error=("payload_too_large",7),options={"max_payload_bytes":7}),
 case("packets at the count limit",4,"polling","4a\x1e4b",[T("message","a"),T("message","b")],options={"max_packets":2}),
 case("packets one over the count limit",4,"polling","4a\x1e4b\x1e4c",[T("message","a"),T("message","b")],error=("too_many_packets",6),options={"max_packets":2}),
]
# ---- v4 websocket
for i,t in enumerate(types):
    v4w.append(case(f"v4 websocket: {t} without data",4,"websocket",str(i),[T(t)],canonical=True))
v4w += [
 case("spec: text message",4,"websocket","4hello",[T("message","hello")],canonical=True),
 case("spec: binary frame is a message",4,"websocket",bytes([1,2,3,4]),[Bin("message",bytes([1,2,3,4]))],binary=True,canonical=True),
 case("binary frame that looks like text",4,"websocket","4hi",[Bin("message",b"4hi")],binary=True,canonical=True),
 case("empty binary frame",4,"websocket","",[Bin("message",b"")],binary=True,canonical=True),
 case("base64 text frame",4,"websocket","bAQIDBA==",[Bin("message",bytes([1,2,3,4]))],canonical=True),
 case("probe pong",4,"websocket","3probe",[T("pong","probe")],canonical=True),
 case("separator is data in a frame",4,"websocket","4a\x1eb",[T("message","a\x1eb")],canonical=True),
 case("UTF-8 data",4,"websocket","4"+U2+U3+U4,[T("message",U2+U3+U4)],canonical=True),
 case("empty text frame",4,"websocket","",[],error=("empty_packet",0)),
 case("unknown type",4,"websocket","9x",[],error=("unknown_packet_type",0)),
 case("invalid UTF-8 in text frame",4,"websocket",b"4ok\xc3",[],error=("invalid_utf8",3)),
 case("bad base64 in text frame",4,"websocket","bAQ!D",[],error=("invalid_base64",3)),
 case("frame at the byte limit",4,"websocket","4abcd",[T("message","abcd")],options={"max_payload_bytes":5}),
 case("frame one byte over the limit",4,"websocket","4abcde",[],error=("payload_too_large",5),options={"max_payload_bytes":5}),
]
# ---- v3 polling text
def L(s): return len(s.encode('utf-16-le'))//2
def p3(s): return f"{L(s)}:{s}"
for i,t in enumerate(types):
    v3p.append(case(f"v3 polling: {t} without data",3,"polling","1:"+str(i),[T(t)],canonical=True))
v3p += [
 case("spec: two messages",3,"polling","6:4hello2:4"+U3,[T("message","hello"),T("message",U3)],canonical=True),
 case("empty payload encoding 0:",3,"polling","0:",[],canonical=True),
 case("zero-length packets are skipped",3,"polling","0:2:4a0:",[T("message","a")]),
 case("euro sign counts one unit",3,"polling",p3("4"+U3*3),[T("message",U3*3)],canonical=True),
 case("emoji counts two units",3,"polling",p3("4"+U4)+p3("4a"+U4+"b"),[T("message",U4),T("message","a"+U4+"b")],canonical=True),
 case("2-byte UTF-8 counts one unit",3,"polling",p3("4"+U2*5),[T("message",U2*5)],canonical=True),
 case("base64 binary packet (b64 clients)",3,"polling","6:b4AQI=",[Bin("message",b"\x01\x02")],canonical=True),
 case("base64 binary ping",3,"polling","2:b2",[Bin("ping",b"")],canonical=True),
 case("mixed text and base64",3,"polling","2:4x10:b4AQIDBA==",[T("message","x"),Bin("message",bytes([1,2,3,4]))],canonical=True),
 case("handshake",3,"polling",p3("0"+handshake),[T("open",handshake)],canonical=True),
 case("leading zeros in length",3,"polling","02:4x",[T("message","x")]),
 case("colon inside data",3,"polling","4:4a:b",[T("message","a:b")],canonical=True),
 case("empty payload",3,"polling","",[],error=("empty_payload",0)),
 case("missing length",3,"polling",":4x",[],error=("invalid_length",0)),
 case("non-digit in length",3,"polling","1a:4",[],error=("invalid_length",1)),
 case("length without colon at end",3,"polling","2:4x12",[T("message","x")],error=("truncated",6)),
 case("length longer than the data",3,"polling","5:4abc",[],error=("truncated",6)),
 case("length shorter: rest is a bad prefix",3,"polling","2:4abc",[T("message","a")],error=("invalid_length",4)),
 case("length splits a surrogate pair",3,"polling","2:4"+U4,[],error=("length_splits_character",3)),
 case("unknown type",3,"polling","2:9x",[],error=("unknown_packet_type",2)),
 case("unknown base64 type",3,"polling","3:b9A",[],error=("unknown_packet_type",3)),
 case("bad base64",3,"polling","6:b4AQ*=",[],error=("invalid_base64",6)),
 case("invalid UTF-8",3,"polling",b"3:4a\xff",[],error=("invalid_utf8",4)),
 case("length digits at the limit",3,"polling","0002:4x",[T("message","x")],options={"max_length_digits":4}),
 case("length digits over the limit",3,"polling","00002:4x",[],error=("length_too_long",4),options={"max_length_digits":4}),
 case("huge length is truncated, not allocated",3,"polling","9999999999:4x",[],error=("truncated",13)),
 case("payload at the byte limit",3,"polling","2:4a2:4b",[T("message","a"),T("message","b")],options={"max_payload_bytes":8}),
 case("payload one byte over the limit",3,"polling","2:4a3:4bc",[T("message","a")],error=("payload_too_large",8),options={"max_payload_bytes":8}),
 case("packets at the count limit",3,"polling","2:4a2:4b",[T("message","a"),T("message","b")],options={"max_packets":2}),
 case("packets one over the count limit",3,"polling","2:4a2:4b",[T("message","a")],error=("too_many_packets",6),options={"max_packets":1}),
]
# ---- v3 polling binary (XHR2)
def bp_text(s):
    b=s.encode(); d=bytes(int(x) for x in str(len(b)))
    return b"\x00"+d+b"\xff"+b
def bp_bin(t,data):
    body=bytes([t])+data; d=bytes(int(x) for x in str(len(body)))
    return b"\x01"+d+b"\xff"+body
v3b += [
 case("text packet",3,"polling",bp_text("4hello"),[T("message","hello")],binary=True),
 case("binary message",3,"polling",bp_bin(4,bytes([1,2,3])),[Bin("message",bytes([1,2,3]))],binary=True,canonical=True),
 case("text with multi-byte UTF-8 counts bytes",3,"polling",bp_text("4h"+U3+"llo"+U4)+bp_bin(4,bytes([1,2,3])),[T("message","h"+U3+"llo"+U4),Bin("message",bytes([1,2,3]))],binary=True,canonical=True),
 case("binary ping without data",3,"polling",bp_bin(2,b""),[Bin("ping",b"")],binary=True,canonical=True),
 case("ten-byte-plus length (two digits)",3,"polling",bp_bin(4,bytes(range(20))),[Bin("message",bytes(range(20)))],binary=True,canonical=True),
 case("0xff inside binary data",3,"polling",bp_bin(4,b"\xff\xff\x00")+bp_text("2"),[Bin("message",b"\xff\xff\x00"),T("ping")],binary=True,canonical=True),
 case("empty payload",3,"polling",b"",[],binary=True,error=("empty_payload",0)),
 case("bad marker",3,"polling",b"\x02\x01\xff4",[],binary=True,error=("invalid_payload_marker",0)),
 case("length digit above 9",3,"polling",b"\x00\x0a\xff4",[],binary=True,error=("invalid_length",1)),
 case("no length digits",3,"polling",b"\x00\xff4",[],binary=True,error=("invalid_length",1)),
 case("missing 0xff",3,"polling",b"\x00\x01",[],binary=True,error=("truncated",2)),
 case("data shorter than length",3,"polling",b"\x01\x05\xff\x04ab",[],binary=True,error=("truncated",6)),
 case("zero length packet",3,"polling",b"\x01\x00\xff",[],binary=True,error=("empty_packet",3)),
 case("unknown binary type byte",3,"polling",b"\x01\x02\xff\x07a",[],binary=True,error=("unknown_packet_type",3)),
 case("unknown text type",3,"polling",b"\x00\x02\xff9a",[],binary=True,error=("unknown_packet_type",3)),
 case("invalid UTF-8 in text packet",3,"polling",b"\x00\x03\xff4\xc3\x28",[],binary=True,error=("invalid_utf8",4)),
 case("length digits at the limit",3,"polling",b"\x01\x00\x01\xff\x04",[Bin("message",b"")],binary=True,options={"max_length_digits":2}),
 case("length digits over the limit",3,"polling",b"\x01\x00\x00\x00\x01\xff\x04",[],binary=True,error=("length_too_long",3),options={"max_length_digits":2}),
 case("packets at the count limit",3,"polling",bp_text("2")+bp_bin(4,b"x"),[T("ping"),Bin("message",b"x")],binary=True,options={"max_packets":2}),
 case("packets one over the count limit",3,"polling",bp_text("2")+bp_bin(4,b"x")+bp_text("3"),[T("ping"),Bin("message",b"x")],binary=True,error=("too_many_packets",12),options={"max_packets":2}),
 case("payload one byte over the limit",3,"polling",bp_text("4ab"),[],binary=True,error=("payload_too_large",5),options={"max_payload_bytes":5}),
 case("huge length is truncated",3,"polling",b"\x01\x09\x09\x09\x09\x09\x09\x09\x09\xff\x04",[],binary=True,error=("truncated",11)),
]
# ---- v3 websocket
v3w += [
 case("text message",3,"websocket","4hello",[T("message","hello")],canonical=True),
 case("binary frame carries a type byte",3,"websocket",b"\x04\x01\x02",[Bin("message",b"\x01\x02")],binary=True,canonical=True),
 case("binary ping frame",3,"websocket",b"\x02",[Bin("ping",b"")],binary=True,canonical=True),
 case("base64 frame for b64 clients",3,"websocket","b4AQI=",[Bin("message",b"\x01\x02")],canonical=True),
 case("probe ping",3,"websocket","2probe",[T("ping","probe")],canonical=True),
 case("upgrade",3,"websocket","5",[T("upgrade")],canonical=True),
 case("empty binary frame",3,"websocket",b"",[],binary=True,error=("empty_packet",0)),
 case("unknown binary type byte",3,"websocket",b"\x07x",[],binary=True,error=("unknown_packet_type",0)),
 case("b without type",3,"websocket","b",[],error=("unknown_packet_type",1)),
]
for name,data in [("v4_polling",v4p),("v4_websocket",v4w),("v3_polling_text",v3p),("v3_polling_binary",v3b),("v3_websocket",v3w)]:
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", f"{name}.json"),"w") as f:
        f.write("[\n"+",\n".join(json.dumps(c,ensure_ascii=False) for c in data)+"\n]\n")
    print(name,len(data))
