package record

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestEachMember(t *testing.T) {
	var got []string
	err := EachMember([]byte(` {"b" : [1, {"x":2}] , "\u00e9\n":"v", "a":null} `), func(name, value []byte) error {
		got = append(got, fmt.Sprintf("%s=%s", name, value))
		return nil
	})
	if want := "b=[1, {\"x\":2}]|é\n=\"v\"|a=null"; err != nil || strings.Join(got, "|") != want {
		t.Errorf("got %q, %v; want %q", strings.Join(got, "|"), err, want)
	}
	for _, bad := range []string{`[1]`, `{"a":1,}`, `{"a":1} x`, `{"a":"\ud800"}`, `{"a":01}`} {
		if err := EachMember([]byte(bad), func(_, _ []byte) error { return nil }); !errors.Is(err, ErrSyntax) {
			t.Errorf("EachMember(%s): %v, want a syntax error", bad, err)
		}
	}
	stop := errors.New("stop")
	if err := EachMember([]byte(`{"a":1,"b":2}`), func(_, _ []byte) error { return stop }); err != stop {
		t.Errorf("fn's error: %v", err)
	}
}

func TestEachElement(t *testing.T) {
	var got []string
	err := EachElement([]byte(`[ 1 ,"a",[],{"k":[2]} ]`), func(i int, e []byte) error {
		got = append(got, fmt.Sprintf("%d:%s", i, e))
		return nil
	})
	if want := `0:1|1:"a"|2:[]|3:{"k":[2]}`; err != nil || strings.Join(got, "|") != want {
		t.Errorf("got %q, %v; want %q", strings.Join(got, "|"), err, want)
	}
	if err := EachElement([]byte(`[]`), func(int, []byte) error { t.Error("an element in []"); return nil }); err != nil {
		t.Error(err)
	}
	if err := EachElement([]byte(`[1 2]`), func(int, []byte) error { return nil }); !errors.Is(err, ErrSyntax) {
		t.Errorf("[1 2]: %v", err)
	}
}

func TestEachNumber(t *testing.T) {
	var got []string
	in := `{"a":[12.5,0.003,1e21,-1.50e3],"b":"9","c":0,"d":{"e":-0.0e7,"f":100}}`
	err := EachNumber([]byte(in), func(n Number) error {
		got = append(got, fmt.Sprintf("%s:%v,%d,%d", n.Text, n.Neg, n.Digits, n.Point))
		return nil
	})
	want := "12.5:false,3,2 0.003:false,1,-2 1e21:false,1,22 -1.50e3:true,2,4 0:false,0,0 -0.0e7:true,0,0 100:false,1,3"
	if err != nil || strings.Join(got, " ") != want {
		t.Errorf("got  %s, %v\nwant %s", strings.Join(got, " "), err, want)
	}
	err = EachNumber([]byte(`[1,1e1000000000000000000]`), func(Number) error { return nil })
	if !errors.Is(err, ErrLimit) {
		t.Errorf("an exponent beyond the limit: %v", err)
	}
}
